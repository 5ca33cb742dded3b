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
      description = "Factor on the LSTM's output. Default per problem: mnist "
          + CoordinatewiseLstm.MNIST_OUTPUT_SCALE_DEFAULT + " (the paper 0.1, the official code "
          + "0.01), otherwise 1 (the official code's quadratic value).")
  Double outputScale;

  @Option(names = "--preprocess", paramLabel = "P",
      description = "Gradient preprocessing: none, log-and-sign (official code's form), "
          + "log-and-sign-paper (paper's two branches). Default per problem: mnist "
          + CoordinatewiseLstm.MNIST_PREPROCESS_DEFAULT + " (the paper log-and-sign-paper, "
          + "the official code log-and-sign), otherwise none.")
  String preprocess;

  @Option(names = "--preprocess-p", paramLabel = "X",
      description = "p (the official code's k) of log-and-sign: the paper 10, the official code "
          + "5. Default per problem: mnist " + CoordinatewiseLstm.MNIST_PREPROCESS_P_DEFAULT
          + ", otherwise 10.")
  Double preprocessP;

  /** The validated configuration with the defaults of the quadratic problem. */
  CoordinatewiseLstm.Config config() {
    return config("quadratic");
  }

  /**
   * The validated configuration; flags not given take the defaults of {@code problemName}
   * ({@link CoordinatewiseLstm#defaultsFor}).
   */
  CoordinatewiseLstm.Config config(String problemName) {
    CoordinatewiseLstm.Config defaults = CoordinatewiseLstm.defaultsFor(problemName);
    double outputScale = this.outputScale == null ? defaults.outputScale() : this.outputScale;
    String preprocess = this.preprocess == null ? defaults.preprocessing().flag()
        : this.preprocess;
    double preprocessP = this.preprocessP == null ? defaults.preprocessP() : this.preprocessP;
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
