package org.l2l.problem;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.l2l.config.Check;
import org.l2l.config.Flag;
import org.l2l.tf.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;

/**
 * Random quadratics f(theta) = ||W theta - y||^2 (paper section 3.1), a batch of them at once.
 *
 * <p>The paper samples one 10x10 W and one y with IID Gaussian entries per function; the official
 * code optimizes a batch of 128 functions at once with W and y uniform in [0, 1) and reports the
 * mean over the batch. Both are available: {@link Distribution} and {@code batchSize}. The loss is
 * the mean over the batch of each function's squared error, so a batch of one is the paper's f.
 */
public final class QuadraticProblem implements Problem {

  /** How the entries of W and y are drawn. */
  public enum Distribution {
    /** IID N(0, 1): the paper's setting. */
    GAUSSIAN,
    /** IID uniform in [0, 1): the official code's setting. */
    UNIFORM
  }

  /** Dimension of theta in the paper. */
  public static final int DIMS_DEFAULT = 10;
  /** The paper's setting: one function per instance (the official code: 128). */
  public static final int BATCH_SIZE_DEFAULT = 1;

  /**
   * The options of {@code --problem quadratic}.
   *
   * @param batchSize functions per instance
   * @param dims dimension of theta
   * @param distribution entries of W and y: gaussian or uniform
   */
  public record Config(
      @Flag(name = "--batch-size", label = "N",
          help = "functions per instance; the paper 1, the official code 128") int batchSize,
      @Flag(name = "--dims", label = "N", help = "dimension of theta") int dims,
      @Flag(name = "--distribution", label = "D",
          help = "entries of W and y: gaussian (paper) or uniform (official code)")
      String distribution) {
    /** Validates every option. */
    public Config {
      Check.positive("--batch-size", batchSize);
      Check.positive("--dims", dims);
      Check.oneOf("--distribution", distribution, List.of("gaussian", "uniform"));
    }
  }

  /** The plug-in: the paper's quadratics by default. */
  public static final ProblemType<Config> TYPE = new ProblemType<>("quadratic",
      "random quadratics ||W theta - y||^2 (paper section 3.1)", Config.class,
      new Config(BATCH_SIZE_DEFAULT, DIMS_DEFAULT, "gaussian"), List.of("theta"), Map.of(),
      (c, context) -> new QuadraticProblem(c.batchSize(), c.dims(),
          c.distribution().equals("uniform") ? Distribution.UNIFORM : Distribution.GAUSSIAN,
          QuadraticProblem.INIT_STDDEV_DEFAULT));
  /** Standard deviation of theta_0, as in the official code (N(0, 0.01^2)). */
  public static final double INIT_STDDEV_DEFAULT = 0.01;

  private final int batchSize;
  private final int dims;
  private final Distribution distribution;
  private final double initStddev;

  /** A family of {@code batchSize} quadratics of {@code dims} dimensions per instance. */
  public QuadraticProblem(int batchSize, int dims, Distribution distribution, double initStddev) {
    if (batchSize < 1 || dims < 1) {
      throw new IllegalArgumentException("batch size and dims must be positive");
    }
    this.batchSize = batchSize;
    this.dims = dims;
    this.distribution = distribution;
    this.initStddev = initStddev;
  }

  @Override
  public String name() {
    return "quadratic";
  }

  @Override
  public List<ParamSpec> params() {
    return List.of(new ParamSpec("theta", new long[] {batchSize, dims}));
  }

  /** One batch of quadratics: W [batch, dims, dims], y [batch, dims], theta_0 [batch, dims]. */
  public record QuadraticInstance(float[] w, float[] y, float[] initialTheta) implements Instance {}

  @Override
  public Instance sample(SplittableRandom rng) {
    float[] w = new float[batchSize * dims * dims];
    float[] y = new float[batchSize * dims];
    for (int i = 0; i < w.length; i++) {
      w[i] = draw(rng);
    }
    for (int i = 0; i < y.length; i++) {
      y[i] = draw(rng);
    }
    float[] theta = new float[batchSize * dims];
    for (int i = 0; i < theta.length; i++) {
      theta[i] = (float) (Random.gaussian(rng) * initStddev);
    }
    return new QuadraticInstance(w, y, theta);
  }

  private float draw(SplittableRandom rng) {
    return distribution == Distribution.GAUSSIAN
        ? (float) Random.gaussian(rng)
        : (float) rng.nextDouble();
  }

  /** A column [n, 1] of value. */
  private static float[][] column(int n, float value) {
    float[][] a = new float[n][1];
    for (float[] row : a) {
      row[0] = value;
    }
    return a;
  }

  @Override
  public ProblemGraph build(Ops tf, int unrollLength) {
    Ops data = tf.withSubScope("data");
    Placeholder<TFloat32> w =
        data.withName("W").placeholder(TFloat32.class,
            Placeholder.shape(Shape.of(batchSize, dims, dims)));
    Placeholder<TFloat32> y =
        data.withName("y").placeholder(TFloat32.class, Placeholder.shape(Shape.of(batchSize, dims)));
    // -y once per run: the residual W theta + (-y) is then an AddN, whose gradient passes the
    // incoming one on (Sub's reduces it over broadcast axes); W theta - y to the bit.
    Operand<TFloat32> minusY = data.withName("minus_y").math.neg(y);
    // One function: W as a matrix, once per run, for a plain product (see loss).
    Operand<TFloat32> w2 = batchSize == 1
        ? data.withName("W_matrix").reshape(w, data.constant(new long[] {dims, dims})) : null;
    return new ProblemGraph() {
      @Override
      public Operand<TFloat32> loss(Ops tf, List<Operand<TFloat32>> params, int step) {
        Operand<TFloat32> theta = params.get(0);
        Operand<TFloat32> wTheta;
        if (w2 != null) {
          // One function: (W theta)^T = theta^T W^T, a plain MatMul [1, D] x [D, D]^T, whose
          // gradient is one product where BatchMatMulV3's also handles broadcasting (eight ops).
          wTheta = tf.linalg.matMul(tf.reshape(theta, tf.constant(new long[] {1, dims})), w2,
              MatMul.transposeB(true));
        } else {
          // (W theta)_bi = sum_j W_bij theta_bj: one batched product [B, D, D] x [B, D, 1]
          // (BatchMatMulV3; its gradients, also second order, are batched products). Mul + Sum
          // computed the same with a Tile of W's size in the gradient: a third of the batch of
          // 128's meta-step.
          wTheta = tf.reshape(
              tf.train.batchMatMul(w, tf.expandDims(theta, tf.constant(2)), TFloat32.class),
              tf.constant(new long[] {batchSize, dims}));
        }
        Operand<TFloat32> residual = tf.math.addN(List.of(wTheta, minusY));
        // The sum over the coordinates and the mean over the batch as products with constant
        // vectors: their gradients are two products, where Sum's and Mean's rebuild the reduced
        // shape at run time (about 25 ops a step in each gradient, the bulk of a small
        // problem's meta-step).
        Operand<TFloat32> perFunction = tf.linalg.matMul(tf.math.square(residual),
            tf.constant(column(dims, 1f)));
        Operand<TFloat32> mean = tf.linalg.matMul(tf.constant(column(batchSize, 1f / batchSize)),
            perFunction, MatMul.transposeA(true));
        return tf.withName("loss").reshape(mean, tf.constant(new long[0]));
      }

      @Override
      public void feed(Session.Runner runner, Instance instance, int unrollIndex,
          List<Tensor> owned) {
        QuadraticInstance q = (QuadraticInstance) instance;
        Tensor wt = Tensors.floats(q.w(), batchSize, dims, dims);
        owned.add(wt);
        Tensor yt = Tensors.floats(q.y(), batchSize, dims);
        owned.add(yt);
        runner.feed(w, wt).feed(y, yt);
      }
    };
  }

  /** Plain-Java value of the loss, for tests. */
  public static double referenceLoss(Instance instance, float[] theta, int batchSize, int dims) {
    QuadraticInstance q = (QuadraticInstance) instance;
    double total = 0;
    for (int b = 0; b < batchSize; b++) {
      for (int i = 0; i < dims; i++) {
        double s = 0;
        for (int j = 0; j < dims; j++) {
          s += q.w()[(b * dims + i) * dims + j] * theta[b * dims + j];
        }
        double r = s - q.y()[b * dims + i];
        total += r * r;
      }
    }
    return total / batchSize;
  }

  /** Plain-Java gradient of the loss, (2 / B) W^T (W theta - y) per function of the batch. */
  public static double[] referenceGradient(Instance instance, float[] theta, int batchSize,
      int dims) {
    QuadraticInstance q = (QuadraticInstance) instance;
    double[] g = new double[theta.length];
    for (int b = 0; b < batchSize; b++) {
      double[] r = new double[dims];
      for (int i = 0; i < dims; i++) {
        double s = -q.y()[b * dims + i];
        for (int j = 0; j < dims; j++) {
          s += q.w()[(b * dims + i) * dims + j] * theta[b * dims + j];
        }
        r[i] = s;
      }
      for (int j = 0; j < dims; j++) {
        double s = 0;
        for (int i = 0; i < dims; i++) {
          s += q.w()[(b * dims + i) * dims + j] * r[i];
        }
        g[b * dims + j] = 2 * s / batchSize;
      }
    }
    return g;
  }
}
