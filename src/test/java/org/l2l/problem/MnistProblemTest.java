package org.l2l.problem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.l2l.data.Mnist;
import org.l2l.data.MnistData;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** The MNIST MLP's shapes, initialisation, minibatches and loss against a plain-Java reference. */
public class MnistProblemTest {

  /** Tiny generated "images": {@code count} of {@code pixels} values in [0, 1], labels 0..9. */
  public static MnistData tinyData(int count, int pixels, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] images = new float[count * pixels];
    for (int i = 0; i < images.length; i++) {
      images[i] = (float) r.nextDouble();
    }
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      labels[i] = r.nextInt(10);
    }
    return new MnistData(images, labels, count, 1, pixels);
  }

  @Test
  void paperNetworkHas15910ParametersInSonnetOrder() {
    MnistProblem p = new MnistProblem(20, 1, MnistProblem.Activation.SIGMOID, 128, 784, null);
    assertEquals(15910, p.numCoordinates());
    assertEquals("[w0[784, 20] in weights, b0[20] in biases, w1[20, 10] in weights, "
        + "b1[10] in biases]", p.params().toString());
    MnistProblem deep = new MnistProblem(20, 2, MnistProblem.Activation.SIGMOID, 128, 784, null);
    assertEquals(15910 + 20 * 20 + 20, deep.numCoordinates());
    MnistProblem wide = new MnistProblem(40, 1, MnistProblem.Activation.SIGMOID, 128, 784, null);
    assertEquals(784 * 40 + 40 + 40 * 10 + 10, wide.numCoordinates());
  }

  @Test
  void initialParametersAreNormalWithStddevOneHundredthAndBatchesAreDeterministic() {
    MnistProblem p = new MnistProblem(20, 1, MnistProblem.Activation.SIGMOID, 128, 784, null);
    var a = (MnistProblem.MnistInstance) p.sample(new SplittableRandom(3));
    var b = (MnistProblem.MnistInstance) p.sample(new SplittableRandom(3));
    assertArrayEquals(a.initialTheta(), b.initialTheta());
    double sum = 0;
    double squares = 0;
    for (float v : a.initialTheta()) {
      sum += v;
      squares += v * v;
    }
    int n = a.initialTheta().length;
    assertEquals(0, sum / n, 3e-4);
    assertEquals(0.01, Math.sqrt(squares / n), 3e-4);
    assertArrayEquals(p.batchIndices(a, 5, 60000), p.batchIndices(b, 5, 60000));
    int[] s5 = p.batchIndices(a, 5, 60000);
    int[] s6 = p.batchIndices(a, 6, 60000);
    assertEquals(128, s5.length);
    int shared = 0;
    for (int i = 0; i < 128; i++) {
      shared += s5[i] == s6[i] ? 1 : 0;
      assertTrue(s5[i] >= 0 && s5[i] < 60000);
    }
    assertTrue(shared < 3, "consecutive steps draw independent minibatches");
    var c = (MnistProblem.MnistInstance) p.sample(new SplittableRandom(4));
    assertNotEquals(a.batchSeed(), c.batchSeed());
  }

  /** Parameters larger than the N(0, 0.01) start, so that activations are far from linear. */
  private static float[] largeTheta(MnistProblem p, long seed) {
    float[] theta = new float[(int) p.numCoordinates()];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < theta.length; i++) {
      theta[i] = (float) (Random.gaussian(r) * 0.8);
    }
    return theta;
  }

  /** The problem's parameter tensors, in spec order, sliced from a flat vector. */
  private static List<Operand<TFloat32>> paramsOf(Ops tf, Operand<TFloat32> flat,
      MnistProblem p) {
    List<Operand<TFloat32>> params = new ArrayList<>();
    long offset = 0;
    for (ParamSpec spec : p.params()) {
      params.add(tf.reshape(tf.slice(flat, tf.constant(new long[] {offset}),
          tf.constant(new long[] {spec.size()})), tf.constant(spec.shape())));
      offset += spec.size();
    }
    return params;
  }

  /** The graph's loss at every step of an unroll of 3 equals the reference on that step's batch. */
  private static void checkLoss(MnistProblem.Activation activation, int layers) {
    MnistData data = tinyData(40, 12, 11);
    int unroll = 3;
    MnistProblem p = new MnistProblem(5, layers, activation, 7, 12, () -> data);
    var inst = (MnistProblem.MnistInstance) p.sample(new SplittableRandom(8));
    float[] theta = largeTheta(p, 1);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      ProblemGraph pg = p.build(tf, unroll);
      Placeholder<TFloat32> flat = tf.placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(theta.length)));
      List<Operand<TFloat32>> params = paramsOf(tf, flat, p);
      List<Operand<TFloat32>> losses = new ArrayList<>();
      for (int t = 0; t <= unroll; t++) {
        losses.add(pg.loss(tf, params, t));
      }
      for (int unrollIndex = 0; unrollIndex < 2; unrollIndex++) {
        List<Tensor> owned = new ArrayList<>();
        Session.Runner runner = s.runner();
        pg.feed(runner, inst, unrollIndex, owned);
        TFloat32 th = Tensors.floats(theta, theta.length);
        owned.add(th);
        runner.feed(flat, th);
        losses.forEach(runner::fetch);
        try (var out = runner.run()) {
          for (int t = 0; t <= unroll; t++) {
            int[] idx = p.batchIndices(inst, (long) unrollIndex * unroll + t, data.count());
            double expected = p.referenceLoss(theta, data, idx);
            assertEquals(expected, Tensors.toScalar(out.get(t)), 1e-5 * (1 + expected),
                activation + " layers " + layers + " unroll " + unrollIndex + " step " + t);
            assertTrue(expected > 0.5, "a loss far from zero: " + expected);
          }
        } finally {
          owned.forEach(Tensor::close);
        }
      }
    }
  }

  /**
   * The written-out loss and gradients ({@code ProblemGraph.lossAndGradients}) against
   * TensorFlow's symbolic gradients of {@code loss}: the same floats, bit for bit.
   */
  private static void checkWrittenGradients(MnistProblem.Activation activation, int layers,
      int batch) {
    MnistData data = tinyData(300, 30, 12);
    MnistProblem p = new MnistProblem(6, layers, activation, batch, 30, () -> data);
    var inst = (MnistProblem.MnistInstance) p.sample(new SplittableRandom(9));
    float[] theta = largeTheta(p, 2);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      ProblemGraph pg = p.build(tf, 1);
      Placeholder<TFloat32> flat = tf.placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(theta.length)));
      List<Operand<TFloat32>> params = paramsOf(tf, flat, p);
      Operand<TFloat32> loss = pg.loss(tf, params, 0);
      var symbolic = tf.gradients(loss, params);
      ProblemGraph.LossAndGradients written = pg.lossAndGradients(tf.withSubScope("f"),
          tf.withSubScope("g"), params, 0);
      List<Tensor> owned = new ArrayList<>();
      Session.Runner runner = s.runner();
      pg.feed(runner, inst, 0, owned);
      TFloat32 th = Tensors.floats(theta, theta.length);
      owned.add(th);
      runner.feed(flat, th).fetch(loss).fetch(written.loss());
      for (int i = 0; i < params.size(); i++) {
        runner.fetch(symbolic.dy(i)).fetch(written.gradients().get(i));
      }
      try (var out = runner.run()) {
        assertEquals(Tensors.toScalar(out.get(0)), Tensors.toScalar(out.get(1)), "loss");
        for (int i = 0; i < params.size(); i++) {
          float[] want = Tensors.toArray(out.get(2 + 2 * i));
          float[] got = Tensors.toArray(out.get(3 + 2 * i));
          assertEquals(p.params().get(i).size(), got.length, "gradient size");
          assertArrayEquals(want, got, activation + " layers " + layers + " gradient of "
              + p.params().get(i).name());
        }
      } finally {
        owned.forEach(Tensor::close);
      }
    }
  }

  @Test
  void writtenGradientsAreTensorFlowsBitForBit() {
    checkWrittenGradients(MnistProblem.Activation.SIGMOID, 1, 128);
    checkWrittenGradients(MnistProblem.Activation.SIGMOID, 2, 7);
    checkWrittenGradients(MnistProblem.Activation.RELU, 2, 7);
  }

  @Test
  void sigmoidLossMatchesPlainJavaReference() {
    checkLoss(MnistProblem.Activation.SIGMOID, 1);
  }

  @Test
  void reluTwoLayerLossMatchesPlainJavaReference() {
    checkLoss(MnistProblem.Activation.RELU, 2);
    checkLoss(MnistProblem.Activation.SIGMOID, 2);
  }

  @Test
  @Tag("network")
  void trainingOptionsUseTheTrainSplitAndEvaluationTheTestSplit() {
    // The real files, fetched into data/mnist when absent; skipped only where that fails.
    Path dir = Path.of(MnistProblem.DATA_DIR_DEFAULT);
    try {
      org.l2l.data.MnistFetcher.ensure(dir, line -> { });
    } catch (org.l2l.data.DataException e) {
      Assumptions.abort("real MNIST cannot be fetched here: " + e.getMessage());
    }
    Assumptions.assumeTrue(Files.isRegularFile(dir.resolve(MnistData.TRAIN_IMAGES))
        || Files.isRegularFile(dir.resolve(MnistData.TRAIN_IMAGES + ".gz")));
    Mnist mnist = MnistProblem.loadMnist(dir, line -> { });
    assertEquals(60000, mnist.train().count());
    assertEquals(10000, mnist.test().count());
    assertArrayEquals(new int[] {5, 0, 4, 1, 9, 2},
        java.util.Arrays.copyOf(mnist.train().labels(), 6));
    MnistProblem.Config o = MnistProblem.TYPE.defaults();
    assertEquals(128, o.batchSize());
    MnistProblem training = (MnistProblem) MnistProblem.TYPE.create(o,
        ProblemType.Context.QUIET);
    MnistProblem evaluation = (MnistProblem) MnistProblem.TYPE.create(o,
        new ProblemType.Context(true, line -> { }));
    assertEquals(15910, training.numCoordinates());
    assertEquals(15910, evaluation.numCoordinates());
    // Swapped splits fail here: meta-training must see the 60,000 training images only, and
    // evaluation the 10,000 test images (the first test label is 7, the first training label 5).
    assertEquals(60000, training.data().count());
    assertEquals(5, training.data().labels()[0]);
    assertEquals(10000, evaluation.data().count());
    assertEquals(7, evaluation.data().labels()[0]);
  }
}
