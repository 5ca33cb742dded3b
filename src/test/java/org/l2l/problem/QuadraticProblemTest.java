package org.l2l.problem;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** The quadratic's loss and gradient: values against plain Java, and how the graph is built. */
class QuadraticProblemTest {

  private static final int D = 4;

  /**
   * f = mean over the batch of |W theta - y|^2 and its gradient (2 / B) W^T (W theta - y), for
   * one function (a plain product) and a batch (batched products); the gradient's graph computes
   * no shapes at run time for its sums (no DynamicStitch: Sum's and Mean's gradients), and for
   * one function has no broadcasting (BroadcastGradientArgs: Sub's, Add's and the batched
   * product's gradients).
   */
  @Test
  void lossAndGradientMatchPlainJava() {
    for (int batch : new int[] {1, 3}) {
      QuadraticProblem p = new QuadraticProblem(batch, D,
          QuadraticProblem.Distribution.GAUSSIAN, 0.01);
      Instance inst = p.sample(new SplittableRandom(4));
      float[] theta = new float[batch * D];
      SplittableRandom rng = new SplittableRandom(5);
      for (int i = 0; i < theta.length; i++) {
        theta[i] = (float) (rng.nextDouble() * 2 - 1);
      }
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        ProblemGraph pg = p.build(tf, 1);
        Placeholder<TFloat32> th = tf.placeholder(TFloat32.class,
            Placeholder.shape(Shape.of(batch, D)));
        Operand<TFloat32> loss = pg.loss(tf, List.of(th), 0);
        Operand<?> grad = tf.gradients(loss, List.of(th)).dy(0);
        Map<String, Integer> count = new HashMap<>();
        for (var it = g.operations(); it.hasNext(); ) {
          count.merge(it.next().type(), 1, Integer::sum);
        }
        assertEquals(0, count.getOrDefault("DynamicStitch", 0), batch + " functions: " + count);
        assertEquals(batch == 1 ? 0 : 1, count.getOrDefault("BroadcastGradientArgs", 0),
            batch + " functions: " + count);

        List<Tensor> owned = new ArrayList<>();
        try (Tensor t = Tensors.floats(theta, batch, D)) {
          Session.Runner runner = s.runner().feed(th, t).fetch(loss).fetch(grad);
          pg.feed(runner, inst, 0, owned);
          try (var r = runner.run()) {
            double f = QuadraticProblem.referenceLoss(inst, theta, batch, D);
            double[] df = QuadraticProblem.referenceGradient(inst, theta, batch, D);
            // The reference gradient against the reference loss: for a quadratic,
            // f(a) - f(b) = (a - b) . grad f((a + b) / 2) exactly, here along each coordinate.
            for (int i = 0; i < df.length; i++) {
              float[] plus = theta.clone();
              float[] minus = theta.clone();
              plus[i] += 0.25f;
              minus[i] -= 0.25f;
              double slope = (QuadraticProblem.referenceLoss(inst, plus, batch, D)
                  - QuadraticProblem.referenceLoss(inst, minus, batch, D))
                  / ((double) plus[i] - minus[i]);
              assertEquals(slope, df[i], 1e-6 * Math.max(1, Math.abs(df[i])),
                  "referenceGradient " + i);
            }
            assertEquals(f, Tensors.toArray(r.get(0))[0], 1e-5 * Math.max(1, f), "loss");
            float[] got = Tensors.toArray(r.get(1));
            for (int i = 0; i < df.length; i++) {
              assertEquals(df[i], got[i], 1e-5 * Math.max(1, Math.abs(df[i])), "gradient " + i);
            }
          }
        } finally {
          owned.forEach(Tensor::close);
        }
      }
    }
  }
}
