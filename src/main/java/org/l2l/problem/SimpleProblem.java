package org.l2l.problem;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * f(x) = x^2 with one scalar x starting at 1: the official code's {@code simple} problem, a
 * smoke test for the whole pipeline (every instance is the same function).
 */
public final class SimpleProblem implements Problem {

  private static final float X0 = 1f;

  /** {@code --problem simple} has no options. */
  public record Config() {}

  /** The plug-in. */
  public static final ProblemType<Config> TYPE = new ProblemType<>("simple",
      "f(x) = x^2 from x = 1, the official code's smoke test", Config.class, new Config(),
      List.of("x"), Map.of(), (c, context) -> new SimpleProblem());

  @Override
  public String name() {
    return "simple";
  }

  @Override
  public List<ParamSpec> params() {
    return List.of(new ParamSpec("x", new long[] {1}));
  }

  @Override
  public Instance sample(SplittableRandom rng) {
    return () -> new float[] {X0};
  }

  @Override
  public ProblemGraph build(Ops tf, int unrollLength) {
    return new ProblemGraph() {
      @Override
      public Operand<TFloat32> loss(Ops tf, List<Operand<TFloat32>> params, int step) {
        return tf.withName("loss").reduceSum(tf.math.square(params.get(0)), tf.constant(0));
      }

      @Override
      public void feed(Session.Runner runner, Instance instance, int unrollIndex,
          List<Tensor> owned) {
        // x^2 has no data.
      }
    };
  }
}
