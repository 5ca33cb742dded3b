package org.l2l.cli;

import org.l2l.config.Check;

import org.l2l.UserError;

import java.util.List;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.tf.FusedLstm;
import picocli.CommandLine.Option;

/** {@code --lstm-kernel}: how the unroll computes the LSTM (the function is the same). */
final class KernelMixin {

  /** The flag's values. */
  static final List<String> VALUES = List.of("auto", "step", "xla", "fused", "stock");

  @Option(names = "--lstm-kernel", paramLabel = "K", defaultValue = "auto",
      description = "How the unroll computes the LSTM: step (this project's C kernels: the "
          + "whole step, every layer and the output, in one op forward and one backward; Linux "
          + "x86-64), xla (TensorFlow's ops with the whole unroll compiled by XLA: about twice "
          + "as fast a meta-step on problems of a few hundred coordinates or less, slower on "
          + "large ones; compiling adds seconds at the start, and XLA logs a few lines), fused "
          + "(the project's older kernels: the cells' elementwise work only), stock "
          + "(TensorFlow's ops), or auto: step where available, else stock (default: "
          + "${DEFAULT-VALUE}). All compute the same function; results differ by float "
          + "rounding.")
  String kernel;

  /** The kernel the flag names; a bad value is a usage error. */
  CoordinatewiseLstm.Kernel resolve() {
    return resolve(kernel);
  }

  /**
   * The kernel a value names (auto: step where the library loads, else stock); a bad value, or
   * step or fused where the library cannot load, is a usage error.
   */
  static CoordinatewiseLstm.Kernel resolve(String value) {
    Check.oneOf("--lstm-kernel", value, VALUES);
    switch (value) {
      case "stock":
        return CoordinatewiseLstm.Kernel.STOCK;
      case "xla":
        return CoordinatewiseLstm.Kernel.XLA;
      case "auto":
        return FusedLstm.available() ? CoordinatewiseLstm.Kernel.STEP
            : CoordinatewiseLstm.Kernel.STOCK;
      default:
        if (!FusedLstm.available()) {
          throw UserError.flag("--lstm-kernel", value, FusedLstm.unavailableReason()
              + "; use --lstm-kernel stock or xla");
        }
        return value.equals("fused") ? CoordinatewiseLstm.Kernel.FUSED
            : CoordinatewiseLstm.Kernel.STEP;
    }
  }
}
