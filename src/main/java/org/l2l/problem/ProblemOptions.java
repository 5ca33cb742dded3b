package org.l2l.problem;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.l2l.data.Mnist;
import org.l2l.data.MnistData;
import org.l2l.data.MnistFetcher;

/**
 * Everything that selects and shapes a problem, as saved in a run's config.json. Fields that do not
 * apply to the chosen problem are ignored by it.
 *
 * @param name one of {@link #NAMES}
 * @param batchSize quadratic: functions per instance (paper 1, official code 128); mnist: images
 *     per minibatch (128)
 * @param dims quadratic: dimension of theta
 * @param distribution quadratic: entries of W and y, gaussian (paper) or uniform (official code)
 * @param coefficients polynomial: number of coefficients (degree + 1)
 * @param samples polynomial: noisy samples per instance
 * @param noise polynomial: standard deviation of the sample noise
 * @param hiddenUnits mnist: units per hidden layer
 * @param hiddenLayers mnist: hidden layers
 * @param activation mnist: hidden activation, sigmoid or relu
 * @param dataDir mnist: folder of the four IDX files (fetched when absent)
 */
public record ProblemOptions(String name, int batchSize, int dims, String distribution,
    int coefficients, int samples, double noise, int hiddenUnits, int hiddenLayers,
    String activation, String dataDir) {

  /** The problems this build knows. */
  public static final List<String> NAMES = List.of("quadratic", "polynomial", "simple", "mnist");
  /** The paper's setting: one function per instance. */
  public static final int BATCH_SIZE_DEFAULT = 1;
  /** The paper's distribution of W and y. */
  public static final String DISTRIBUTION_DEFAULT = "gaussian";
  /** Allowed distributions. */
  public static final List<String> DISTRIBUTIONS = List.of("gaussian", "uniform");
  /** Where MNIST is looked for (and fetched to) unless --data-dir says otherwise. */
  public static final String DATA_DIR_DEFAULT = "data/mnist";

  private static final Map<Path, Mnist> LOADED = new ConcurrentHashMap<>();

  /** Defaults for the named problem. */
  public static ProblemOptions defaults(String name) {
    return new ProblemOptions(name, batchSizeDefault(name), QuadraticProblem.DIMS_DEFAULT,
        DISTRIBUTION_DEFAULT, PolynomialProblem.COEFFICIENTS_DEFAULT,
        PolynomialProblem.SAMPLES_DEFAULT, PolynomialProblem.NOISE_DEFAULT,
        MnistProblem.HIDDEN_UNITS_DEFAULT, MnistProblem.HIDDEN_LAYERS_DEFAULT,
        MnistProblem.ACTIVATION_DEFAULT, DATA_DIR_DEFAULT);
  }

  /** The default of --batch-size for the named problem: mnist 128, otherwise 1. */
  public static int batchSizeDefault(String name) {
    return "mnist".equals(name) ? MnistProblem.BATCH_SIZE_DEFAULT : BATCH_SIZE_DEFAULT;
  }

  /** Builds the problem for meta-training; the options must have been validated. */
  public Problem create() {
    return create(false);
  }

  /**
   * Builds the problem; the options must have been validated. With {@code evaluation}, problems
   * with a train/test split (mnist) draw their data from the test split, otherwise from the
   * training split. MNIST is fetched into {@link #dataDir} when absent, with progress lines on
   * standard output; a {@link org.l2l.data.DataException} says why when that fails.
   */
  public Problem create(boolean evaluation) {
    return switch (name) {
      case "quadratic" -> new QuadraticProblem(batchSize, dims,
          "uniform".equals(distribution) ? QuadraticProblem.Distribution.UNIFORM
              : QuadraticProblem.Distribution.GAUSSIAN,
          QuadraticProblem.INIT_STDDEV_DEFAULT);
      case "polynomial" -> new PolynomialProblem(coefficients, samples, noise);
      case "simple" -> new SimpleProblem();
      case "mnist" -> {
        Mnist mnist = loadMnist(Path.of(dataDir), line -> System.out.println("mnist: " + line));
        MnistData split = evaluation ? mnist.test() : mnist.train();
        yield new MnistProblem(hiddenUnits, hiddenLayers,
            MnistProblem.Activation.fromFlag(activation), batchSize, split.imageSize(),
            () -> split);
      }
      default -> throw new IllegalArgumentException("unknown problem " + name);
    };
  }

  /** Fetches MNIST into {@code dir} if absent and loads it, once per folder per process. */
  public static Mnist loadMnist(Path dir, Consumer<String> log) {
    return LOADED.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> {
      MnistFetcher.ensure(dir, log);
      return MnistData.load(dir);
    });
  }
}
