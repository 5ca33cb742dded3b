package org.l2l.problem;

import java.util.List;
import java.util.Map;
import org.l2l.config.Check;
import org.l2l.config.Flag;
import java.util.SplittableRandom;
import org.l2l.tf.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Fit the coefficients of a polynomial to noisy samples of it: the small problem of the text this
 * project grew from (a polynomial with 7 coefficients, i.e. degree 6). Each instance draws new
 * true coefficients N(0, 1), sample points uniform in [-1, 1] and Gaussian noise; the loss is the
 * mean squared error of the fitted polynomial on the samples.
 */
public final class PolynomialProblem implements Problem {

  /** Number of coefficients in the text this project grew from (degree 6). */
  public static final int COEFFICIENTS_DEFAULT = 7;
  /** Number of noisy samples of the polynomial per instance. */
  public static final int SAMPLES_DEFAULT = 32;
  /** Standard deviation of the noise added to the samples. */
  public static final double NOISE_DEFAULT = 0.1;
  /** Standard deviation of the initial coefficients. */
  public static final double INIT_STDDEV_DEFAULT = 0.01;

  /**
   * The options of {@code --problem polynomial}.
   *
   * @param coefficients coefficients to fit (degree + 1)
   * @param samples noisy samples per instance
   * @param noise standard deviation of the sample noise
   */
  public record Config(
      @Flag(name = "--coefficients", label = "N", help = "coefficients to fit, degree + 1")
      int coefficients,
      @Flag(name = "--samples", label = "N", help = "noisy samples per instance") int samples,
      @Flag(name = "--noise", label = "X", help = "noise standard deviation") double noise) {
    /** Validates every option. */
    public Config {
      Check.positive("--coefficients", coefficients);
      Check.positive("--samples", samples);
      Check.nonNegative("--noise", noise);
    }
  }

  /** The plug-in. */
  public static final ProblemType<Config> TYPE = new ProblemType<>("polynomial",
      "fit a polynomial to noisy samples (the reduced system of the text this project grew from)",
      Config.class, new Config(COEFFICIENTS_DEFAULT, SAMPLES_DEFAULT, NOISE_DEFAULT),
      List.of("coefficients"), Map.of(),
      (c, context) -> new PolynomialProblem(c.coefficients(), c.samples(), c.noise()));

  private final int coefficients;
  private final int samples;
  private final double noise;

  /** A family of polynomials with {@code coefficients} coefficients. */
  public PolynomialProblem(int coefficients, int samples, double noise) {
    if (coefficients < 1 || samples < 1) {
      throw new IllegalArgumentException("coefficients and samples must be positive");
    }
    this.coefficients = coefficients;
    this.samples = samples;
    this.noise = noise;
  }

  @Override
  public String name() {
    return "polynomial";
  }

  @Override
  public List<ParamSpec> params() {
    return List.of(new ParamSpec("coefficients", new long[] {coefficients}));
  }

  /** Powers of the sample points [samples, coefficients], noisy targets, and initial fit. */
  record PolynomialInstance(float[] powers, float[] targets, float[] initialTheta)
      implements Instance {}

  @Override
  public Instance sample(SplittableRandom rng) {
    double[] truth = new double[coefficients];
    for (int k = 0; k < coefficients; k++) {
      truth[k] = Random.gaussian(rng);
    }
    float[] powers = new float[samples * coefficients];
    float[] targets = new float[samples];
    for (int i = 0; i < samples; i++) {
      double x = 2 * rng.nextDouble() - 1;
      double p = 1;
      double y = 0;
      for (int k = 0; k < coefficients; k++) {
        powers[i * coefficients + k] = (float) p;
        y += truth[k] * p;
        p *= x;
      }
      targets[i] = (float) (y + noise * Random.gaussian(rng));
    }
    float[] theta = new float[coefficients];
    for (int k = 0; k < coefficients; k++) {
      theta[k] = (float) (INIT_STDDEV_DEFAULT * Random.gaussian(rng));
    }
    return new PolynomialInstance(powers, targets, theta);
  }

  @Override
  public ProblemGraph build(Ops tf, int unrollLength) {
    Ops data = tf.withSubScope("data");
    Placeholder<TFloat32> powers = data.withName("powers").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(samples, coefficients)));
    Placeholder<TFloat32> targets = data.withName("targets").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(samples)));
    return new ProblemGraph() {
      @Override
      public Operand<TFloat32> loss(Ops tf, List<Operand<TFloat32>> params, int step) {
        Operand<TFloat32> fitted = tf.reduceSum(
            tf.math.mul(powers, tf.expandDims(params.get(0), tf.constant(0))), tf.constant(1));
        return tf.withName("loss").math.mean(
            tf.math.square(tf.math.sub(fitted, targets)), tf.constant(0));
      }

      @Override
      public void feed(Session.Runner runner, Instance instance, int unrollIndex,
          List<Tensor> owned) {
        PolynomialInstance p = (PolynomialInstance) instance;
        Tensor pt = Tensors.floats(p.powers(), samples, coefficients);
        owned.add(pt);
        Tensor tt = Tensors.floats(p.targets(), samples);
        owned.add(tt);
        runner.feed(powers, pt).feed(targets, tt);
      }
    };
  }
}
