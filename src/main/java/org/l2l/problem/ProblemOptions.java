package org.l2l.problem;

import java.util.List;

/**
 * Everything that selects and shapes a problem, as saved in a run's config.json. Fields that do not
 * apply to the chosen problem are ignored by it.
 *
 * @param name one of {@link #NAMES}
 * @param batchSize quadratic: functions per instance (paper 1, official code 128)
 * @param dims quadratic: dimension of theta
 * @param distribution quadratic: entries of W and y, gaussian (paper) or uniform (official code)
 * @param coefficients polynomial: number of coefficients (degree + 1)
 * @param samples polynomial: noisy samples per instance
 * @param noise polynomial: standard deviation of the sample noise
 */
public record ProblemOptions(String name, int batchSize, int dims, String distribution,
    int coefficients, int samples, double noise) {

  /** The problems this build knows. */
  public static final List<String> NAMES = List.of("quadratic", "polynomial", "simple");
  /** The paper's setting: one function per instance. */
  public static final int BATCH_SIZE_DEFAULT = 1;
  /** The paper's distribution of W and y. */
  public static final String DISTRIBUTION_DEFAULT = "gaussian";
  /** Allowed distributions. */
  public static final List<String> DISTRIBUTIONS = List.of("gaussian", "uniform");

  /** Defaults for the named problem. */
  public static ProblemOptions defaults(String name) {
    return new ProblemOptions(name, BATCH_SIZE_DEFAULT, QuadraticProblem.DIMS_DEFAULT,
        DISTRIBUTION_DEFAULT, PolynomialProblem.COEFFICIENTS_DEFAULT,
        PolynomialProblem.SAMPLES_DEFAULT, PolynomialProblem.NOISE_DEFAULT);
  }

  /** Builds the problem; the options must have been validated. */
  public Problem create() {
    return switch (name) {
      case "quadratic" -> new QuadraticProblem(batchSize, dims,
          "uniform".equals(distribution) ? QuadraticProblem.Distribution.UNIFORM
              : QuadraticProblem.Distribution.GAUSSIAN,
          QuadraticProblem.INIT_STDDEV_DEFAULT);
      case "polynomial" -> new PolynomialProblem(coefficients, samples, noise);
      case "simple" -> new SimpleProblem();
      default -> throw new IllegalArgumentException("unknown problem " + name);
    };
  }
}
