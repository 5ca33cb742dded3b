package org.l2l.problem;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.l2l.UserError;
import org.l2l.config.Check;
import org.l2l.config.Flag;
import org.l2l.data.ImageDataset;
import org.l2l.data.ImageDatasets;
import org.l2l.data.Images;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The paper's convolutional network (section 3.3, Figure 6; the official code's {@code cifar10}
 * problem): three blocks of conv 5x5 with 16 channels, stride 1, SAME, with bias, then batch
 * norm, ReLU and max-pool 2x2 stride 2 SAME; then flatten, dense 32, batch norm, ReLU, dense 10,
 * and the mean softmax cross-entropy of a minibatch sampled at every step.
 *
 * <p>Batch norm as the official code has it: an offset beta and no scale, epsilon 1e-3, always the
 * minibatch's own statistics (over the batch, and over positions for convolutions). Every weight,
 * bias and beta starts N(0, 0.01^2). On 32x32x3 images there are 22,682 parameters; 28x28x1
 * images (Fashion-MNIST, MNIST) give the same 256-wide flatten (28 -> 14 -> 7 -> 4 with SAME
 * pooling) and 21,882.
 *
 * <p>Two parameter groups: {@code conv}, the three convolution kernels (14,000 coordinates on
 * CIFAR-10), and {@code fc}, everything else (conv biases, betas, dense weights and biases). The
 * official code's cifar-multi is {@code --rules conv=lstm,fc=lstm}; the default, one learned rule
 * for both, is its plain cifar10.
 *
 * <p>{@code --labels} keeps only the images of those classes, in training and in evaluation; the
 * output layer keeps its 10 units, so that an optimizer trained on some labels ("LSTM-sub") runs
 * the same network, with the same parameters, on others.
 */
public final class ConvProblem implements Problem {

  /** The data sets, for --dataset. */
  public static final List<String> DATASETS = ImageDatasets.NAMES;
  /** Every class. */
  public static final String ALL_LABELS = "0,1,2,3,4,5,6,7,8,9";
  /** The paper's and official code's minibatch. */
  public static final int BATCH_SIZE_DEFAULT = 128;
  /** Convolution blocks. */
  public static final int CONV_LAYERS = 3;
  /** Channels of every convolution. */
  public static final int CHANNELS = 16;
  /** Width and height of the convolution kernels. */
  public static final int KERNEL = 5;
  /** Units of the hidden dense layer. */
  public static final int HIDDEN = 32;
  /** Batch norm's epsilon in the official code. */
  public static final float BN_EPSILON = 1e-3f;
  /** Standard deviation of every initial parameter in the official code. */
  public static final double INIT_STDDEV = 0.01;
  /** Parameter group of the convolution kernels. */
  public static final String CONV = "conv";
  /** Parameter group of everything else. */
  public static final String FC = "fc";

  /**
   * The options of {@code --problem conv}.
   *
   * @param dataset cifar10 (the paper), fashion-mnist or mnist
   * @param labels the classes kept, ascending, comma-separated
   * @param batchSize images per minibatch
   * @param dataDir where the data set's files are ("" = data/DATASET)
   */
  public record Config(
      @Flag(name = "--dataset", label = "D",
          help = "images: cifar10 (the paper's), fashion-mnist or mnist") String dataset,
      @Flag(name = "--labels", label = "LIST",
          help = "classes to train and evaluate on, e.g. 0-4 or 5,6 (the output layer keeps 10 "
              + "units)") String labels,
      @Flag(name = "--batch-size", label = "N",
          help = "images per minibatch, the paper's 128") int batchSize,
      @Flag(name = "--data-dir", label = "DIR", identity = false,
          help = "folder of the data set's files, fetched there when absent; empty: "
              + "data/DATASET") String dataDir) {

    /** Validates every option; --labels is kept in its canonical form ("0,1,2,3,4"). */
    public Config {
      Check.oneOf("--dataset", dataset, DATASETS);
      labels = canonical(labels);
      Check.positive("--batch-size", batchSize);
      if (dataDir == null) {
        throw UserError.flag("--data-dir", "null", "must name a folder");
      }
    }

    /** The classes kept. */
    public List<Integer> classes() {
      return java.util.Arrays.stream(labels.split(",")).map(Integer::valueOf).toList();
    }

    /** The data folder: --data-dir, or data/DATASET. */
    public Path dataPath() {
      return Path.of(dataDir.isEmpty() ? "data/" + dataset : dataDir);
    }
  }

  /** "0-4,7" -> "0,1,2,3,4,7"; anything else than labels 0..9 is a --labels error. */
  static String canonical(String labels) {
    TreeSet<Integer> set = new TreeSet<>();
    try {
      for (String part : labels.split(",")) {
        String p = part.trim();
        int dash = p.indexOf('-');
        int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).trim());
        int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1).trim());
        if (from < 0 || to > 9 || from > to) {
          throw new NumberFormatException();
        }
        for (int c = from; c <= to; c++) {
          set.add(c);
        }
      }
    } catch (NumberFormatException | NullPointerException e) {
      throw UserError.flag("--labels", labels, "a list of classes 0..9 and ranges, e.g. 0-4 or "
          + "5,6");
    }
    return String.join(",", set.stream().map(String::valueOf).toList());
  }

  /** The plug-in. */
  public static final ProblemType<Config> TYPE = new ProblemType<>("conv",
      "a convolutional network on CIFAR-10 or Fashion-MNIST (paper section 3.3)", Config.class,
      new Config("cifar10", ALL_LABELS, BATCH_SIZE_DEFAULT, ""), List.of(CONV, FC),
      Map.of("--output-scale", 0.1, "--preprocess", "log-and-sign-paper", "--preprocess-p",
          10.0),
      (c, context) -> {
        ImageDataset all = ImageDatasets.load(c.dataset(), c.dataPath(), context.log());
        Images split = (context.evaluation() ? all.test() : all.train())
            .select(c.classes(), c.dataset() + (context.evaluation() ? " test" : " training")
                + " images");
        return new ConvProblem(c.batchSize(), split.height(), split.width(), split.channels(),
            () -> split);
      });

  private static final long STEP_MIX = 0x9E3779B97F4A7C15L;

  private final int batchSize;
  private final int height;
  private final int width;
  private final int channels;
  private final Supplier<Images> data;

  /** A network on images of height x width x channels from {@code data}. */
  public ConvProblem(int batchSize, int height, int width, int channels, Supplier<Images> data) {
    if (batchSize < 1 || height < 1 || width < 1 || channels < 1) {
      throw new IllegalArgumentException("sizes must be positive");
    }
    this.batchSize = batchSize;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.data = data;
  }

  /** Convolutions' gradients (input and filter) run side by side: 25-30% faster meta-steps. */
  @Override
  public boolean parallelBranches() {
    return true;
  }

  @Override
  public String name() {
    return TYPE.name();
  }

  /** The images this problem draws its minibatches from. */
  public Images data() {
    return data.get();
  }

  /** Side after {@code blocks} SAME poolings of stride 2. */
  private static int pooled(int side, int blocks) {
    for (int i = 0; i < blocks; i++) {
      side = (side + 1) / 2;
    }
    return side;
  }

  /** Width of the flattened features: 256 for 32x32 or 28x28 images. */
  public int flatSize() {
    return pooled(height, CONV_LAYERS) * pooled(width, CONV_LAYERS) * CHANNELS;
  }

  @Override
  public List<ParamSpec> params() {
    List<ParamSpec> specs = new ArrayList<>();
    int in = channels;
    for (int k = 0; k < CONV_LAYERS; k++) {
      specs.add(new ParamSpec("conv" + k + "_w", new long[] {KERNEL, KERNEL, in, CHANNELS}, CONV));
      specs.add(new ParamSpec("conv" + k + "_b", new long[] {CHANNELS}, FC));
      specs.add(new ParamSpec("bn" + k + "_beta", new long[] {CHANNELS}, FC));
      in = CHANNELS;
    }
    specs.add(new ParamSpec("fc0_w", new long[] {flatSize(), HIDDEN}, FC));
    specs.add(new ParamSpec("fc0_b", new long[] {HIDDEN}, FC));
    specs.add(new ParamSpec("bn3_beta", new long[] {HIDDEN}, FC));
    specs.add(new ParamSpec("fc1_w", new long[] {HIDDEN, Images.NUM_CLASSES}, FC));
    specs.add(new ParamSpec("fc1_b", new long[] {Images.NUM_CLASSES}, FC));
    return specs;
  }

  /** The initial parameters and the seed of the minibatches. */
  public record ConvInstance(float[] initialTheta, long batchSeed) implements Instance {}

  @Override
  public Instance sample(SplittableRandom rng) {
    float[] theta = new float[(int) numCoordinates()];
    for (int i = 0; i < theta.length; i++) {
      theta[i] = (float) (INIT_STDDEV * Random.gaussian(rng));
    }
    return new ConvInstance(theta, rng.nextLong());
  }

  /** The image indices of the minibatch of global step {@code step} of an instance. */
  public int[] batchIndices(ConvInstance instance, long step, int count) {
    return Classification.batchIndices(instance.batchSeed(), step, STEP_MIX, batchSize, count);
  }

  /** Batch norm with the batch's own statistics over {@code axes}, offset only. */
  static Operand<TFloat32> batchNorm(Ops tf, Operand<TFloat32> x, Operand<TFloat32> beta,
      int[] axes) {
    Operand<TFloat32> mean = tf.math.mean(x, tf.constant(axes), Mean.keepDims(true));
    Operand<TFloat32> centered = tf.math.sub(x, mean);
    Operand<TFloat32> variance = tf.math.mean(tf.math.mul(centered, centered), tf.constant(axes),
        Mean.keepDims(true));
    return tf.math.add(tf.math.mul(centered,
        tf.math.rsqrt(tf.math.add(variance, tf.constant(BN_EPSILON)))), beta);
  }

  /** The network's logits [batch, 10] for images [batch, h, w, c] and the parameters. */
  Operand<TFloat32> logits(Ops tf, Operand<TFloat32> x, List<Operand<TFloat32>> params) {
    Operand<TInt32> ksize = tf.constant(new int[] {1, 2, 2, 1});
    for (int k = 0; k < CONV_LAYERS; k++) {
      Ops block = tf.withSubScope("conv" + k);
      x = block.nn.conv2d(x, params.get(3 * k), List.of(1L, 1L, 1L, 1L), "SAME");
      x = block.math.add(x, params.get(3 * k + 1));
      x = batchNorm(block, x, params.get(3 * k + 2), new int[] {0, 1, 2});
      x = block.nn.relu(x);
      x = block.nn.maxPool(x, ksize, ksize, "SAME");
    }
    int p = 3 * CONV_LAYERS;
    Ops fc = tf.withSubScope("fc0");
    x = fc.reshape(x, fc.constant(new long[] {batchSize, flatSize()}));
    x = fc.math.add(fc.linalg.matMul(x, params.get(p)), params.get(p + 1));
    x = batchNorm(fc, x, params.get(p + 2), new int[] {0});
    x = fc.nn.relu(x);
    Ops out = tf.withSubScope("fc1");
    return out.math.add(out.linalg.matMul(x, params.get(p + 3)), params.get(p + 4));
  }

  @Override
  public ProblemGraph build(Ops tf, int unrollLength) {
    int steps = unrollLength + 1;
    Ops scope = tf.withSubScope("data");
    Placeholder<TFloat32> images = scope.withName("images").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(steps, batchSize, height, width, channels)));
    Placeholder<TFloat32> labels = scope.withName("labels").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(steps, batchSize, Images.NUM_CLASSES)));
    List<Output<TFloat32>> stepImages = scope.unstack(images, (long) steps).output();
    List<Output<TFloat32>> stepLabels = scope.unstack(labels, (long) steps).output();
    return new ProblemGraph() {
      @Override
      public Operand<TFloat32> loss(Ops tf, List<Operand<TFloat32>> params, int step) {
        return Classification.crossEntropy(tf, logits(tf, stepImages.get(step), params),
            stepLabels.get(step), batchSize);
      }

      @Override
      public void feed(Session.Runner runner, Instance instance, int unrollIndex,
          List<Tensor> owned) {
        ConvInstance c = (ConvInstance) instance;
        Images split = data.get();
        int size = height * width * channels;
        if (split.imageSize() != size) {
          throw new IllegalStateException("images have " + split.imageSize() + " values, not "
              + size);
        }
        Classification.feedMinibatches(runner, owned, images, labels, split.pixels(),
            split.labels(), Images.NUM_CLASSES, steps, batchSize,
            t -> batchIndices(c, (long) unrollIndex * unrollLength + t, split.count()),
            height, width, channels);
      }
    };
  }
}
