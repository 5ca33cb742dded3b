package org.l2l.rule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/** LogAndSign preprocessing, both forms, both branches, against hand-computed values. */
class PreprocessingTest {

  private static final float[] G = {0.5f, -2f, 1e-6f, -1e-6f, 0f};

  private static float[] graphValues(Preprocessing p, double param) {
    try (Graph graph = new Graph(); Session s = new Session(graph)) {
      Ops tf = Ops.create(graph);
      var out = p.apply(tf, tf.constant(G), param);
      assertEquals(p.inputSize(), out.shape().get(1));
      try (Result r = s.runner().fetch(out).run()) {
        return Tensors.toArray(r.get(0));
      }
    }
  }

  @Test
  void paperFormLargeBranchIsLogOverPAndSign() {
    float[] v = graphValues(Preprocessing.LOG_AND_SIGN_PAPER, 10);
    // |g| >= e^-10: (log|g| / p, sign g)
    assertEquals(Math.log(0.5) / 10, v[0], 1e-6);
    assertEquals(1f, v[1]);
    assertEquals(Math.log(2) / 10, v[2], 1e-6);
    assertEquals(-1f, v[3]);
  }

  @Test
  void paperFormSmallBranchIsMinusOneAndScaledGradient() {
    float[] v = graphValues(Preprocessing.LOG_AND_SIGN_PAPER, 10);
    // |g| < e^-10 (4.54e-5): (-1, e^10 g)
    assertEquals(-1f, v[4]);
    assertEquals(Math.exp(10) * 1e-6, v[5], 1e-6);
    assertEquals(-1f, v[6]);
    assertEquals(-Math.exp(10) * 1e-6, v[7], 1e-6);
    assertEquals(-1f, v[8]);
    assertEquals(0f, v[9]);
  }

  @Test
  void officialFormClampsLogAndSign() {
    float[] v = graphValues(Preprocessing.LOG_AND_SIGN, 5);
    assertEquals(Math.log(0.5 + Preprocessing.FLOAT32_EPS) / 5, v[0], 1e-6);
    assertEquals(1f, v[1]); // 0.5 e^5 clipped to 1
    assertEquals(-1f, v[3]); // -2 e^5 clipped to -1
    assertEquals(-1f, v[4]); // log(1e-6)/5 = -2.76, clamped to -1
    assertEquals(Math.exp(5) * 1e-6, v[5], 1e-7);
  }

  @Test
  void graphMatchesJavaReferenceForEveryForm() {
    for (Preprocessing p : Preprocessing.values()) {
      float[] v = graphValues(p, 7);
      for (int i = 0; i < G.length; i++) {
        float[] expected = p.reference(G[i], 7);
        float[] actual = new float[p.inputSize()];
        System.arraycopy(v, i * p.inputSize(), actual, 0, p.inputSize());
        assertArrayEquals(expected, actual, 1e-6f, p + " at g=" + G[i]);
      }
    }
  }
}
