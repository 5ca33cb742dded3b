package org.l2l.cli;

import org.l2l.problem.MnistProblem;
import org.l2l.problem.PolynomialProblem;
import org.l2l.problem.ProblemOptions;
import org.l2l.problem.QuadraticProblem;
import picocli.CommandLine.Option;

/** The flags that choose and shape the optimizee problem. */
final class ProblemMixin {

  @Option(names = "--problem", paramLabel = "P", defaultValue = "quadratic",
      description = "Optimizee problem: quadratic, polynomial, simple, mnist "
          + "(default: ${DEFAULT-VALUE}).")
  String problem;

  @Option(names = "--batch-size", paramLabel = "N",
      description = "quadratic: functions per instance; the paper 1, the official code 128 "
          + "(default: 1). mnist: images per minibatch (default: 128, paper and official code).")
  Integer batchSize;

  @Option(names = "--dims", paramLabel = "N", defaultValue = "" + QuadraticProblem.DIMS_DEFAULT,
      description = "quadratic: dimension of theta (default: ${DEFAULT-VALUE}).")
  int dims;

  @Option(names = "--distribution", paramLabel = "D",
      defaultValue = ProblemOptions.DISTRIBUTION_DEFAULT,
      description = "quadratic: entries of W and y, gaussian (paper) or uniform (official code) "
          + "(default: ${DEFAULT-VALUE}).")
  String distribution;

  @Option(names = "--coefficients", paramLabel = "N",
      defaultValue = "" + PolynomialProblem.COEFFICIENTS_DEFAULT,
      description = "polynomial: coefficients to fit, degree + 1 (default: ${DEFAULT-VALUE}).")
  int coefficients;

  @Option(names = "--samples", paramLabel = "N",
      defaultValue = "" + PolynomialProblem.SAMPLES_DEFAULT,
      description = "polynomial: noisy samples per instance (default: ${DEFAULT-VALUE}).")
  int samples;

  @Option(names = "--noise", paramLabel = "X", defaultValue = "" + PolynomialProblem.NOISE_DEFAULT,
      description = "polynomial: noise standard deviation (default: ${DEFAULT-VALUE}).")
  double noise;

  @Option(names = "--hidden-units", paramLabel = "N",
      defaultValue = "" + MnistProblem.HIDDEN_UNITS_DEFAULT,
      description = "mnist: units per hidden layer (default: ${DEFAULT-VALUE}, the paper's).")
  int hiddenUnits;

  @Option(names = "--hidden-layers", paramLabel = "N",
      defaultValue = "" + MnistProblem.HIDDEN_LAYERS_DEFAULT,
      description = "mnist: hidden layers (default: ${DEFAULT-VALUE}, the paper's).")
  int hiddenLayers;

  @Option(names = "--activation", paramLabel = "A", defaultValue = MnistProblem.ACTIVATION_DEFAULT,
      description = "mnist: hidden activation, sigmoid or relu (default: ${DEFAULT-VALUE}, the "
          + "paper's).")
  String activation;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = ProblemOptions.DATA_DIR_DEFAULT,
      description = "mnist: folder of the four IDX files, plain or gzipped; fetched there when "
          + "absent. train samples minibatches from the training split, evaluate from the test "
          + "split (default: ${DEFAULT-VALUE}).")
  String dataDir;

  /** The validated options. */
  ProblemOptions options() {
    Check.oneOf("--problem", problem, ProblemOptions.NAMES);
    int batch = batchSize == null ? ProblemOptions.batchSizeDefault(problem)
        : Check.positive("--batch-size", batchSize);
    Check.positive("--dims", dims);
    Check.oneOf("--distribution", distribution, ProblemOptions.DISTRIBUTIONS);
    Check.positive("--coefficients", coefficients);
    Check.positive("--samples", samples);
    Check.nonNegative("--noise", noise);
    Check.positive("--hidden-units", hiddenUnits);
    Check.nonNegative("--hidden-layers", hiddenLayers);
    Check.oneOf("--activation", activation, MnistProblem.Activation.flags());
    if (dataDir.isBlank()) {
      throw UsageException.flag("--data-dir", "''", "must name a folder");
    }
    return new ProblemOptions(problem, batch, dims, distribution, coefficients, samples, noise,
        hiddenUnits, hiddenLayers, activation, dataDir);
  }
}
