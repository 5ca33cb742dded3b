package org.l2l.problem;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.l2l.UserError;
import org.l2l.config.Check;
import org.l2l.config.Flag;
import org.l2l.data.ImageDatasets;
import org.l2l.data.Mnist;
import org.l2l.data.MnistData;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Train a small MLP classifier on MNIST (paper section 3.2): {@code hiddenLayers} hidden layers of
 * {@code hiddenUnits} units (sigmoid or ReLU), a linear output of 10 logits, the mean softmax
 * cross-entropy of a minibatch of {@code batchSize} images sampled (with replacement) at every
 * step. The paper's base network is one hidden layer of 20 sigmoid units (15,910 parameters).
 *
 * <p>Parameters are initialised as the official code does: every weight and bias N(0, 0.01^2).
 * An instance is that initial point plus the seed of its minibatches: the minibatch of global step
 * s (s = unrollIndex * unrollLength + t) is drawn from a random stream derived from the seed and s
 * only, so the same seed gives the same minibatches, and the last step of one unroll and the first
 * of the next (the same parameters) see the same minibatch.
 *
 * <p>The loss is written with LogSoftmax (whose gradient, and the gradient of that, exist in
 * TensorFlow Java; SparseSoftmaxCrossEntropyWithLogits has no gradient there). The images of an
 * unroll's T + 1 steps are fed at once as [T + 1, batch, pixels] with one-hot labels
 * [T + 1, batch, 10].
 */
public final class MnistProblem implements Problem {

  /** The hidden-layer activation. */
  public enum Activation {
    /** The paper's base network. */
    SIGMOID("sigmoid"),
    /** The paper's generalisation test on which the learned optimizer fails. */
    RELU("relu");

    private final String flag;

    Activation(String flag) {
      this.flag = flag;
    }

    /** The name on the command line. */
    public String flag() {
      return flag;
    }

    /** The activation named {@code flag}, or null. */
    public static Activation fromFlag(String flag) {
      for (Activation a : values()) {
        if (a.flag.equals(flag)) {
          return a;
        }
      }
      return null;
    }

    /** All names, for messages. */
    public static List<String> flags() {
      return java.util.Arrays.stream(values()).map(Activation::flag).toList();
    }
  }

  /** The paper's 20 hidden units. */
  public static final int HIDDEN_UNITS_DEFAULT = 20;
  /** The paper's one hidden layer. */
  public static final int HIDDEN_LAYERS_DEFAULT = 1;
  /** The paper's sigmoid. */
  public static final String ACTIVATION_DEFAULT = "sigmoid";
  /** The paper's and official code's minibatch of 128. */
  public static final int BATCH_SIZE_DEFAULT = 128;
  /** Standard deviation of initial weights and biases in the official code. */
  public static final double INIT_STDDEV = 0.01;
  /** Digits. */
  public static final int CLASSES = 10;
  /** 28 x 28 pixels. */
  public static final int PIXELS = 784;

  /** Where MNIST is looked for (and fetched to) unless --data-dir says otherwise. */
  public static final String DATA_DIR_DEFAULT = "data/mnist";
  /** Output scale of the default MNIST optimizer (the paper 0.1, the official code 0.01). */
  public static final double OUTPUT_SCALE_DEFAULT = 0.1;
  /** Preprocessing of the default MNIST optimizer (the official code: log-and-sign). */
  public static final String PREPROCESS_DEFAULT = "log-and-sign-paper";
  /** p of that preprocessing (the paper 10, the official code's k = 5). */
  public static final double PREPROCESS_P_DEFAULT = 10;
  /** Parameter group of every weight matrix. */
  public static final String WEIGHTS = "weights";
  /** Parameter group of every bias. */
  public static final String BIASES = "biases";

  /**
   * The options of {@code --problem mnist}.
   *
   * @param batchSize images per minibatch
   * @param hiddenUnits units per hidden layer
   * @param hiddenLayers hidden layers
   * @param activation hidden activation, sigmoid or relu
   * @param dataDir folder of the four IDX files (fetched there when absent)
   */
  public record Config(
      @Flag(name = "--batch-size", label = "N",
          help = "images per minibatch, the paper's and the official code's 128") int batchSize,
      @Flag(name = "--hidden-units", label = "N", help = "units per hidden layer (the paper 20)")
      int hiddenUnits,
      @Flag(name = "--hidden-layers", label = "N", help = "hidden layers (the paper 1)")
      int hiddenLayers,
      @Flag(name = "--activation", label = "A",
          help = "hidden activation, sigmoid (the paper) or relu") String activation,
      @Flag(name = "--data-dir", label = "DIR", identity = false,
          help = "folder of the four IDX files, plain or gzipped; fetched there when absent. "
              + "train samples minibatches from the training split, evaluate from the test "
              + "split") String dataDir) {
    /** Validates every option. */
    public Config {
      Check.positive("--batch-size", batchSize);
      Check.positive("--hidden-units", hiddenUnits);
      Check.nonNegative("--hidden-layers", hiddenLayers);
      Check.oneOf("--activation", activation, Activation.flags());
      if (dataDir == null || dataDir.isBlank()) {
        throw UserError.flag("--data-dir", "''", "must name a folder");
      }
    }
  }

  /** The plug-in: the paper's base network, and the paper's LSTM settings for it. */
  public static final ProblemType<Config> TYPE = new ProblemType<>("mnist",
      "an MLP classifier on MNIST minibatches (paper section 3.2)", Config.class,
      new Config(BATCH_SIZE_DEFAULT, HIDDEN_UNITS_DEFAULT, HIDDEN_LAYERS_DEFAULT,
          ACTIVATION_DEFAULT, DATA_DIR_DEFAULT), List.of(WEIGHTS, BIASES),
      Map.of("--output-scale", OUTPUT_SCALE_DEFAULT, "--preprocess", PREPROCESS_DEFAULT,
          "--preprocess-p", PREPROCESS_P_DEFAULT),
      (c, context) -> {
        Mnist mnist = loadMnist(Path.of(c.dataDir()), context.log());
        MnistData split = context.evaluation() ? mnist.test() : mnist.train();
        return new MnistProblem(c.hiddenUnits(), c.hiddenLayers(),
            Activation.fromFlag(c.activation()), c.batchSize(), split.imageSize(), () -> split);
      });

  /** Fetches MNIST into {@code dir} if absent and loads it, once per folder per process. */
  public static Mnist loadMnist(Path dir, Consumer<String> log) {
    return ImageDatasets.mnist(dir, log);
  }

  private static final long STEP_MIX = 0xD1B54A32D192ED03L;

  private final int hiddenUnits;
  private final int hiddenLayers;
  private final Activation activation;
  private final int batchSize;
  private final int inputSize;
  private final Supplier<MnistData> data;

  /**
   * An MLP on images of {@code inputSize} pixels from {@code data} (asked for when instances are
   * sampled or fed, and expected to return the same split every time).
   */
  public MnistProblem(int hiddenUnits, int hiddenLayers, Activation activation, int batchSize,
      int inputSize, Supplier<MnistData> data) {
    if (hiddenUnits < 1 || hiddenLayers < 0 || batchSize < 1 || inputSize < 1) {
      throw new IllegalArgumentException("sizes must be positive");
    }
    this.hiddenUnits = hiddenUnits;
    this.hiddenLayers = hiddenLayers;
    this.activation = Objects.requireNonNull(activation);
    this.batchSize = batchSize;
    this.inputSize = inputSize;
    this.data = data;
  }

  @Override
  public String name() {
    return "mnist";
  }

  /** The split this problem draws its images from (training or test). */
  public MnistData data() {
    return data.get();
  }

  /** Layer widths from input to logits. */
  private int[] widths() {
    int[] w = new int[hiddenLayers + 2];
    w[0] = inputSize;
    for (int i = 1; i <= hiddenLayers; i++) {
      w[i] = hiddenUnits;
    }
    w[hiddenLayers + 1] = CLASSES;
    return w;
  }

  @Override
  public List<ParamSpec> params() {
    int[] w = widths();
    List<ParamSpec> specs = new ArrayList<>();
    for (int l = 0; l + 1 < w.length; l++) {
      specs.add(new ParamSpec("w" + l, new long[] {w[l], w[l + 1]}, WEIGHTS));
      specs.add(new ParamSpec("b" + l, new long[] {w[l + 1]}, BIASES));
    }
    return specs;
  }

  /** The initial parameters and the seed of the minibatches. */
  public record MnistInstance(float[] initialTheta, long batchSeed) implements Instance {}

  @Override
  public Instance sample(SplittableRandom rng) {
    float[] theta = new float[(int) numCoordinates()];
    for (int i = 0; i < theta.length; i++) {
      theta[i] = (float) (INIT_STDDEV * Random.gaussian(rng));
    }
    return new MnistInstance(theta, rng.nextLong());
  }

  /** The image indices of the minibatch of global step {@code step} of an instance. */
  public int[] batchIndices(MnistInstance instance, long step, int count) {
    return Classification.batchIndices(instance.batchSeed(), step, STEP_MIX, batchSize, count);
  }

  @Override
  public ProblemGraph build(Ops tf, int unrollLength) {
    int steps = unrollLength + 1;
    Ops scope = tf.withSubScope("data");
    Placeholder<TFloat32> images = scope.withName("images").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(steps, batchSize, inputSize)));
    Placeholder<TFloat32> labels = scope.withName("labels").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(steps, batchSize, CLASSES)));
    List<Output<TFloat32>> stepImages = scope.unstack(images, (long) steps).output();
    List<Output<TFloat32>> stepLabels = scope.unstack(labels, (long) steps).output();
    int[] widths = widths();
    return new ProblemGraph() {
      @Override
      public Operand<TFloat32> loss(Ops tf, List<Operand<TFloat32>> params, int step) {
        Operand<TFloat32> logits = logits(tf, params, step, new ArrayList<>(), new ArrayList<>());
        return Classification.crossEntropy(tf, logits, stepLabels.get(step), batchSize);
      }

      /** The net's logits; each layer's input and pre-activation are added to the lists. */
      private Operand<TFloat32> logits(Ops tf, List<Operand<TFloat32>> params, int step,
          List<Operand<TFloat32>> inputs, List<Operand<TFloat32>> preActivations) {
        Operand<TFloat32> x = stepImages.get(step);
        for (int l = 0; l + 1 < widths.length; l++) {
          Ops layer = tf.withSubScope("layer" + l);
          inputs.add(x);
          x = layer.math.add(layer.linalg.matMul(x, params.get(2 * l)), params.get(2 * l + 1));
          preActivations.add(x);
          if (l + 2 < widths.length) {
            x = activation == Activation.SIGMOID ? layer.math.sigmoid(x) : layer.nn.relu(x);
          }
        }
        return x;
      }

      /**
       * The loss as {@link #loss} builds it, and its backward pass as TensorFlow's gradients
       * would build it, minus their shape bookkeeping: the log-softmax gradient dl - softmax *
       * sum(dl) with dl = labels * (-1 / batch), then per layer (last first) dW = x^T dz, db =
       * the column sums of dz, dx = dz W^T and the activation's gradient op.
       */
      @Override
      public LossAndGradients lossAndGradients(Ops tf, Ops grad, List<Operand<TFloat32>> params,
          int step) {
        List<Operand<TFloat32>> inputs = new ArrayList<>();
        List<Operand<TFloat32>> preActivations = new ArrayList<>();
        Operand<TFloat32> logits = logits(tf, params, step, inputs, preActivations);
        Operand<TFloat32> labels = stepLabels.get(step);
        Operand<TFloat32> logProbabilities = tf.nn.logSoftmax(logits);
        Operand<TFloat32> loss = Classification.meanCrossEntropy(tf, logProbabilities, labels,
            batchSize);

        Operand<TFloat32> dl = grad.math.mul(labels, grad.constant(-1f / batchSize));
        Operand<TFloat32> dz = grad.math.sub(dl, grad.math.mul(
            grad.reduceSum(dl, grad.constant(new int[] {1}), org.tensorflow.op.core.ReduceSum
                .keepDims(true)), grad.math.exp(logProbabilities)));
        List<Operand<TFloat32>> grads = new ArrayList<>(java.util.Collections.nCopies(
            params.size(), (Operand<TFloat32>) null));
        Operand<org.tensorflow.types.TInt32> rows = grad.constant(new int[] {0});
        for (int l = widths.length - 2; l >= 0; l--) {
          grads.set(2 * l, grad.linalg.matMul(inputs.get(l), dz,
              org.tensorflow.op.linalg.MatMul.transposeA(true)));
          grads.set(2 * l + 1, grad.reduceSum(dz, rows));
          if (l > 0) {
            Operand<TFloat32> dx = grad.linalg.matMul(dz, params.get(2 * l),
                org.tensorflow.op.linalg.MatMul.transposeB(true));
            dz = activation == Activation.SIGMOID
                ? grad.math.sigmoidGrad(inputs.get(l), dx)
                : grad.nn.reluGrad(dx, preActivations.get(l - 1));
          }
        }
        return new LossAndGradients(loss, grads);
      }

      @Override
      public void feed(Session.Runner runner, Instance instance, int unrollIndex,
          List<Tensor> owned) {
        MnistInstance m = (MnistInstance) instance;
        MnistData split = data.get();
        if (split.imageSize() != inputSize) {
          throw new IllegalStateException("images have " + split.imageSize() + " pixels, not "
              + inputSize);
        }
        Classification.feedMinibatches(runner, owned, images, labels, split.images(),
            split.labels(), CLASSES, steps, batchSize,
            t -> batchIndices(m, (long) unrollIndex * unrollLength + t, split.count()),
            inputSize);
      }
    };
  }

  /**
   * Plain-Java value of the loss of flat parameters {@code theta} on the given images, for tests:
   * the mean softmax cross-entropy, in double precision.
   */
  public double referenceLoss(float[] theta, MnistData split, int[] indices) {
    int[] w = widths();
    double total = 0;
    for (int index : indices) {
      double[] x = new double[inputSize];
      for (int k = 0; k < inputSize; k++) {
        x[k] = split.images()[index * inputSize + k];
      }
      int offset = 0;
      for (int l = 0; l + 1 < w.length; l++) {
        double[] out = new double[w[l + 1]];
        for (int j = 0; j < out.length; j++) {
          double s = theta[offset + w[l] * w[l + 1] + j];
          for (int k = 0; k < w[l]; k++) {
            s += x[k] * theta[offset + k * w[l + 1] + j];
          }
          boolean hidden = l + 2 < w.length;
          out[j] = !hidden ? s
              : activation == Activation.SIGMOID ? 1 / (1 + Math.exp(-s)) : Math.max(0, s);
        }
        offset += w[l] * w[l + 1] + w[l + 1];
        x = out;
      }
      double max = Double.NEGATIVE_INFINITY;
      for (double v : x) {
        max = Math.max(max, v);
      }
      double sum = 0;
      for (double v : x) {
        sum += Math.exp(v - max);
      }
      total -= x[split.labels()[index]] - max - Math.log(sum);
    }
    return total / indices.length;
  }
}
