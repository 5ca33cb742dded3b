package org.l2l.cli;

import org.l2l.config.Check;

import org.l2l.UserError;

import java.util.List;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.tf.FusedLstm;
import picocli.CommandLine.Option;

/** {@code --lstm-kernel}: how the unroll computes the LSTM cell (the result is the same). */
final class KernelMixin {

  /** The flag's values. */
  static final List<String> VALUES = List.of("auto", "fused", "stock");

  @Option(names = "--lstm-kernel", paramLabel = "K", defaultValue = "auto",
      description = "The LSTM cell's elementwise work in the unroll: fused (this project's "
          + "C kernels, one pass forward and one backward; Linux x86-64), stock (TensorFlow's "
          + "ops), or auto: fused where available (default: ${DEFAULT-VALUE}). Both compute "
          + "the same function; results differ by float rounding.")
  String kernel;

  /** The kernel to use; a bad value, or fused where it cannot load, is a usage error. */
  CoordinatewiseLstm.Kernel resolve() {
    return resolve(kernel);
  }

  static CoordinatewiseLstm.Kernel resolve(String value) {
    Check.oneOf("--lstm-kernel", value, VALUES);
    if (value.equals("stock")) {
      return CoordinatewiseLstm.Kernel.STOCK;
    }
    if (FusedLstm.available()) {
      return CoordinatewiseLstm.Kernel.FUSED;
    }
    if (value.equals("fused")) {
      throw UserError.flag("--lstm-kernel", value, FusedLstm.unavailableReason()
          + "; use --lstm-kernel stock");
    }
    return CoordinatewiseLstm.Kernel.STOCK;
  }
}
