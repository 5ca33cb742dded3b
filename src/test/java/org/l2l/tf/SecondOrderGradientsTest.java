package org.l2l.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Each registered second-order gradient against central finite differences (in double precision
 * on the float32 forward values). For an activation a: g(x, c) = d/dx sum(c * a(x)) = c * a'(x)
 * is built by TensorFlow's own first-order gradient (so it contains the op under test, e.g.
 * SigmoidGrad), and z = sum(v * g). The analytic dz/dx and dz/dc need the custom gradient; the
 * finite differences of z need only the forward values.
 */
class SecondOrderGradientsTest {

  private static final float[] X = {-1.3f, -0.4f, 0.35f, 0.9f, 1.7f};
  private static final float[] C = {0.8f, -1.1f, 0.5f, 1.4f, -0.6f};
  private static final float[] V = {1.2f, 0.7f, -0.9f, 0.4f, 1.0f};

  @BeforeAll
  static void register() {
    SecondOrderGradients.register();
    SecondOrderGradients.register(); // idempotent
  }

  /** [dz/dx, dz/dc] analytic and by finite differences, for activation {@code act}. */
  private static void check(String name, String expectedOp, BiFunction<Ops, Operand<TFloat32>, Operand<TFloat32>> act,
      float[] xs, double eps, double tolerance) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(5)));
      Placeholder<TFloat32> c = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(5)));
      Operand<TFloat32> y = tf.reduceSum(tf.math.mul(c, act.apply(tf, x)), tf.constant(0));
      Operand<TFloat32> grad = tf.gradients(y, List.of(x)).dy(0);
      String opType = ((Output<?>) grad.asOutput()).op().type();
      assertEquals(expectedOp, opType, "the first-order gradient is the op under test");
      Operand<TFloat32> z = tf.reduceSum(tf.math.mul(tf.constant(V), grad), tf.constant(0));
      var second = tf.gradients(z, List.of(x, c));
      Operand<TFloat32> dzdx = second.dy(0);
      Operand<TFloat32> dzdc = second.dy(1);
      float[][] analytic = new float[2][];
      try (TFloat32 xt = Tensors.floats(xs, 5); TFloat32 ct = Tensors.floats(C, 5);
          var out = s.runner().feed(x, xt).feed(c, ct).fetch(dzdx).fetch(dzdc).run()) {
        analytic[0] = Tensors.toArray(out.get(0));
        analytic[1] = Tensors.toArray(out.get(1));
      }
      int checked = 0;
      for (int which = 0; which < 2; which++) {
        for (int i = 0; i < 5; i++) {
          float[] xp = xs.clone();
          float[] xm = xs.clone();
          float[] cp = C.clone();
          float[] cm = C.clone();
          if (which == 0) {
            xp[i] += (float) eps;
            xm[i] -= (float) eps;
          } else {
            cp[i] += (float) eps;
            cm[i] -= (float) eps;
          }
          double fd = (value(s, x, c, z, xp, cp) - value(s, x, c, z, xm, cm)) / (2 * eps);
          assertEquals(fd, analytic[which][i], tolerance * (1 + Math.abs(fd)),
              name + " (gradient op " + opType + ") d z / d " + (which == 0 ? "x" : "c") + "["
                  + i + "]");
          checked++;
        }
      }
      assertEquals(10, checked);
    }
  }

  private static double value(Session s, Placeholder<TFloat32> x, Placeholder<TFloat32> c,
      Operand<TFloat32> z, float[] xs, float[] cs) {
    try (TFloat32 xt = Tensors.floats(xs, 5); TFloat32 ct = Tensors.floats(cs, 5);
        var out = s.runner().feed(x, xt).feed(c, ct).fetch(z).run()) {
      return Tensors.toScalar(out.get(0));
    }
  }

  @Test
  void sigmoidGradGradientMatchesFiniteDifferences() {
    check("sigmoid", "SigmoidGrad", (tf, x) -> tf.math.sigmoid(x), X, 1e-2, 2e-3);
  }

  @Test
  void tanhGradGradientMatchesFiniteDifferences() {
    check("tanh", "TanhGrad", (tf, x) -> tf.math.tanh(x), X, 1e-2, 2e-3);
  }

  @Test
  void reluGradGradientMatchesFiniteDifferences() {
    // Away from the kink, relu is piecewise linear: dz/dx = 0 and dz/dc = v * (x > 0).
    check("relu", "ReluGrad", (tf, x) -> tf.nn.relu(x), X, 1e-2, 1e-4);
  }

  @Test
  void sqrtGradGradientMatchesFiniteDifferences() {
    check("sqrt", "SqrtGrad", (tf, x) -> tf.math.sqrt(x), new float[] {0.5f, 0.9f, 1.3f, 2.0f, 3.1f}, 1e-2,
        3e-3);
  }

  @Test
  void softplusGradGradientMatchesFiniteDifferences() {
    check("softplus", "SoftplusGrad", (tf, x) -> tf.math.softplus(x), X, 1e-2, 2e-3);
  }

  @Test
  void gradientOfAGradientThroughTheOnesLikeSeedIsDefined() {
    // d/dx of (d/dx x^3) = 6x: the seed OnesLike(y) lies on the path and needs its gradient.
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.constant(new float[] {0.5f, -2f});
      Operand<TFloat32> y = tf.reduceSum(tf.math.mul(tf.math.square(x), x), tf.constant(0));
      Operand<TFloat32> dy = tf.gradients(y, List.of(x)).dy(0);
      Operand<TFloat32> d2 = tf.gradients(tf.reduceSum(dy, tf.constant(0)), List.of(x)).dy(0);
      try (var out = s.runner().fetch(d2).run()) {
        float[] v = Tensors.toArray(out.get(0));
        assertEquals(3f, v[0], 1e-5);
        assertEquals(-12f, v[1], 1e-5);
      }
    }
  }
}
