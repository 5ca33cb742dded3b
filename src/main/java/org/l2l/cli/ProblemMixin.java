package org.l2l.cli;

import org.l2l.problem.PolynomialProblem;
import org.l2l.problem.ProblemOptions;
import org.l2l.problem.QuadraticProblem;
import picocli.CommandLine.Option;

/** The flags that choose and shape the optimizee problem. */
final class ProblemMixin {

  @Option(names = "--problem", paramLabel = "P", defaultValue = "quadratic",
      description = "Optimizee problem: quadratic, polynomial, simple (default: ${DEFAULT-VALUE}).")
  String problem;

  @Option(names = "--batch-size", paramLabel = "N",
      defaultValue = "" + ProblemOptions.BATCH_SIZE_DEFAULT,
      description = "quadratic: functions per instance; the paper 1, the official code 128 "
          + "(default: ${DEFAULT-VALUE}).")
  int batchSize;

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

  /** The validated options. */
  ProblemOptions options() {
    Check.oneOf("--problem", problem, ProblemOptions.NAMES);
    Check.positive("--batch-size", batchSize);
    Check.positive("--dims", dims);
    Check.oneOf("--distribution", distribution, ProblemOptions.DISTRIBUTIONS);
    Check.positive("--coefficients", coefficients);
    Check.positive("--samples", samples);
    Check.nonNegative("--noise", noise);
    return new ProblemOptions(problem, batchSize, dims, distribution, coefficients, samples, noise);
  }
}
