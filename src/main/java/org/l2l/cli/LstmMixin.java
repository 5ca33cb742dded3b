package org.l2l.cli;

import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;
import picocli.CommandLine.Option;

/** The flags that shape the LSTM optimizer. */
final class LstmMixin {

  @Option(names = "--layers", paramLabel = "N", defaultValue = "" + CoordinatewiseLstm.LAYERS_DEFAULT,
      description = "LSTM layers (default: ${DEFAULT-VALUE}, the paper's).")
  int layers;

  @Option(names = "--hidden-size", paramLabel = "N",
      defaultValue = "" + CoordinatewiseLstm.HIDDEN_SIZE_DEFAULT,
      description = "LSTM units per layer (default: ${DEFAULT-VALUE}, the paper's).")
  int hiddenSize;

  @Option(names = "--forget-bias", paramLabel = "X",
      defaultValue = "" + CoordinatewiseLstm.FORGET_BIAS_DEFAULT,
      description = "Bias added to the forget gate (default: ${DEFAULT-VALUE}, as Sonnet).")
  double forgetBias;

  @Option(names = "--output-scale", paramLabel = "X",
      defaultValue = "" + CoordinatewiseLstm.OUTPUT_SCALE_DEFAULT,
      description = "Factor on the LSTM's output (default: ${DEFAULT-VALUE}; the official code "
          + "uses 1 for quadratics, 0.01 for MNIST).")
  double outputScale;

  @Option(names = "--preprocess", paramLabel = "P", defaultValue = "none",
      description = "Gradient preprocessing: none, log-and-sign (official code's form), "
          + "log-and-sign-paper (paper's two branches) (default: ${DEFAULT-VALUE}).")
  String preprocess;

  @Option(names = "--preprocess-p", paramLabel = "X", defaultValue = "" + Preprocessing.P_PAPER,
      description = "p (the official code's k) of log-and-sign: the paper 10, the official code "
          + "5 (default: ${DEFAULT-VALUE}).")
  double preprocessP;

  /** The validated configuration. */
  CoordinatewiseLstm.Config config() {
    Check.positive("--layers", layers);
    Check.positive("--hidden-size", hiddenSize);
    if (!Double.isFinite(forgetBias)) {
      throw UsageException.flag("--forget-bias", forgetBias, "must be a finite number");
    }
    Check.positive("--output-scale", outputScale);
    Check.oneOf("--preprocess", preprocess, Preprocessing.flags());
    Check.positive("--preprocess-p", preprocessP);
    return new CoordinatewiseLstm.Config(layers, hiddenSize, forgetBias, outputScale,
        Preprocessing.fromFlag(preprocess), preprocessP);
  }
}
