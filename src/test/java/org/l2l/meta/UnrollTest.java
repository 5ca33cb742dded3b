package org.l2l.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.l2l.problem.Instance;
import org.l2l.problem.Problem;
import org.l2l.problem.QuadraticProblem;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;
import org.l2l.rule.Sgd;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** The unroll: losses, gradients, truncation and determinism. */
class UnrollTest {

  private static final int B = 2;
  private static final int D = 4;
  private static final Problem QUADRATIC =
      new QuadraticProblem(B, D, QuadraticProblem.Distribution.GAUSSIAN, 0.01);

  static CoordinatewiseLstm smallLstm() {
    return new CoordinatewiseLstm(
        new CoordinatewiseLstm.Config(2, 8, 1.0, 0.1, Preprocessing.NONE, 10));
  }

  /** The batch of two (batched products) and one function (a plain product): the same sums. */
  @Test
  void sgdUnrollMatchesPlainJavaGradientDescent() {
    sgdUnrollMatchesPlainJavaGradientDescent(QUADRATIC, B);
    sgdUnrollMatchesPlainJavaGradientDescent(
        new QuadraticProblem(1, D, QuadraticProblem.Distribution.GAUSSIAN, 0.01), 1);
  }

  private static void sgdUnrollMatchesPlainJavaGradientDescent(Problem problem, int B) {
    double lr = 0.05;
    Instance inst = problem.sample(new SplittableRandom(3));
    try (Unroll u = new Unroll(problem, new Sgd(lr), Unroll.Options.evaluation(10, 1))) {
      u.reset(inst);
      float[] losses = u.run(inst, 0).losses();
      // Reference: theta -= lr * (2 / B) W^T (W theta - y), per function of the batch.
      float[] theta = inst.initialTheta().clone();
      for (int t = 0; t <= 10; t++) {
        double loss = QuadraticProblem.referenceLoss(inst, theta, B, D);
        double[] grad = QuadraticProblem.referenceGradient(inst, theta, B, D);
        assertEquals(loss, losses[t], 1e-5 * Math.max(1, loss), "loss at step " + t);
        for (int i = 0; t < 10 && i < theta.length; i++) {
          theta[i] = (float) (theta[i] - lr * grad[i]);
        }
      }
      float[] actual = u.theta();
      for (int i = 0; i < theta.length; i++) {
        assertEquals(theta[i], actual[i], 1e-5 * Math.max(1, Math.abs(theta[i])));
      }
    }
  }

  /** a + b: AddN (no broadcasting in its gradient) where the shapes are known and equal. */
  @Test
  void plusIsAddNWhereShapesAreKnownAndEqual() {
    float[] a = {1e8f, 0.1f, -3f, 1.5e-7f};
    float[] b = {1f, 0.2f, 3f, 2.5e-7f};
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> same = Unroll.plus(tf, tf.constant(a), tf.constant(b));
      Operand<TFloat32> broadcast = Unroll.plus(tf, tf.constant(a), tf.constant(2f));
      assertEquals("AddN", same.op().type());
      assertNotEquals("AddN", broadcast.op().type());
      try (var r = s.runner().fetch(same).fetch(broadcast).run()) {
        float[] sum = Tensors.toArray(r.get(0));
        float[] plusTwo = Tensors.toArray(r.get(1));
        for (int i = 0; i < a.length; i++) {
          assertEquals(Float.floatToIntBits(a[i] + b[i]), Float.floatToIntBits(sum[i]));
          assertEquals(Float.floatToIntBits(a[i] + 2f), Float.floatToIntBits(plusTwo[i]));
        }
      }
    }
  }

  /** Every step's update theta + delta is an AddN (see {@link Unroll#plus}). */
  @Test
  void updatesAreAddN() {
    try (Unroll u = new Unroll(QUADRATIC, smallLstm(),
        new Unroll.Options(5, false, false, 0.01, 0, 1, 1))) {
      int updates = 0;
      for (var it = u.graph().operations(); it.hasNext(); ) {
        var op = it.next();
        if (op.name().matches("step_\\d+/update/theta")) {
          assertEquals("AddN", op.type(), op.name());
          updates++;
        }
      }
      assertEquals(5, updates);
    }
  }

  @Test
  void initialLossMatchesReference() {
    Instance inst = QUADRATIC.sample(new SplittableRandom(5));
    try (Unroll u = new Unroll(QUADRATIC, smallLstm(), Unroll.Options.evaluation(5, 1))) {
      u.reset(inst);
      float[] losses = u.run(inst, 0).losses();
      assertEquals(6, losses.length);
      assertEquals(QuadraticProblem.referenceLoss(inst, inst.initialTheta(), B, D), losses[0],
          1e-5);
    }
  }

  @Test
  @Tag("slow")
  void twoUnrollsOfTwentyEqualOneOfForty() {
    Instance inst = QUADRATIC.sample(new SplittableRandom(11));
    float[] lossesShort = new float[41];
    float[] thetaShort;
    try (Unroll u = new Unroll(QUADRATIC, smallLstm(), Unroll.Options.evaluation(20, 1))) {
      u.reset(inst);
      float[] a = u.run(inst, 0).losses();
      float[] b = u.run(inst, 1).losses();
      System.arraycopy(a, 0, lossesShort, 0, 21);
      System.arraycopy(b, 0, lossesShort, 20, 21);
      assertEquals(a[20], b[0]);
      thetaShort = u.theta();
    }
    try (Unroll u = new Unroll(QUADRATIC, smallLstm(), Unroll.Options.evaluation(40, 1))) {
      u.reset(inst);
      float[] l = u.run(inst, 0).losses();
      assertArrayEquals(l, lossesShort);
      assertArrayEquals(u.theta(), thetaShort);
    }
  }

  @Test
  void resetRestartsFromTheInstance() {
    Instance inst = QUADRATIC.sample(new SplittableRandom(12));
    try (Unroll u = new Unroll(QUADRATIC, smallLstm(), Unroll.Options.evaluation(5, 1))) {
      u.reset(inst);
      float[] first = u.run(inst, 0).losses();
      u.run(inst, 1);
      u.reset(inst);
      assertArrayEquals(first, u.run(inst, 0).losses());
    }
  }

  @Test
  @Tag("slow")
  void metaTrainingIsBitIdenticalForTheSameSeed() {
    List<float[]> a = metaTrain(21);
    List<float[]> b = metaTrain(21);
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i), b.get(i));
    }
    List<float[]> c = metaTrain(22);
    assertTrue(!java.util.Arrays.equals(a.get(0), c.get(0)), "another seed, other weights");
  }

  private static List<float[]> metaTrain(long seed) {
    try (Unroll u = new Unroll(QUADRATIC, smallLstm(),
        new Unroll.Options(10, false, false, 0.01, 0, seed, 0))) {
      for (int epoch = 1; epoch <= 3; epoch++) {
        Instance inst = QUADRATIC.sample(Seeds.random(seed, Seeds.Stream.TRAIN, epoch));
        u.reset(inst);
        u.train(inst, 0);
        u.train(inst, 1);
      }
      return u.metaParamValues();
    }
  }

  @Test
  void metaStepChangesOnlyWhenTrained() {
    Instance inst = QUADRATIC.sample(new SplittableRandom(13));
    try (Unroll u = new Unroll(QUADRATIC, smallLstm(),
        new Unroll.Options(5, false, false, 0.01, 0, 1, 1))) {
      List<float[]> before = u.metaParamValues();
      u.reset(inst);
      u.run(inst, 0);
      assertArrayEquals(before.get(0), u.metaParamValues().get(0));
      Unroll.Result r = u.train(inst, 1);
      assertTrue(r.metaGradientNorm() > 0);
      assertTrue(!java.util.Arrays.equals(before.get(0), u.metaParamValues().get(0)));
    }
  }

  @Test
  void metaLossIsTheSumOfLossesOrOfTheirLogs() {
    Instance inst = QUADRATIC.sample(new SplittableRandom(14));
    for (boolean log : new boolean[] {false, true}) {
      try (Unroll u = new Unroll(QUADRATIC, smallLstm(),
          new Unroll.Options(5, false, false, 0.01, 0, 1, 1, log))) {
        u.reset(inst);
        Unroll.Result r = u.run(inst, 0);
        double expected = 0;
        for (int t = 1; t <= 5; t++) {
          expected += log ? Math.log(r.losses()[t]) : r.losses()[t];
        }
        assertEquals(expected, r.metaLoss(), 1e-5 * Math.max(1, Math.abs(expected)),
            log ? "sum of log f_t" : "sum of f_t");
      }
    }
  }

  @Test
  void baselineUnrollCannotMetaTrain() {
    assertThrows(IllegalArgumentException.class, () -> new Unroll(QUADRATIC, new Sgd(0.1),
        new Unroll.Options(5, false, false, 0.01, 0, 1, 1)));
  }
}
