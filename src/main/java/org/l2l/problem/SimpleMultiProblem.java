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
 * f(x0, x1) = x0^2 + x1^2 with both scalars starting at 1: the official code's {@code
 * simple-multi} problem. Each scalar is a parameter group of its own ({@code x0}, {@code x1}), so
 * that a run can give them different rules; the official code optimizes x0 with the LSTM and x1
 * with Adam at 0.1, which is {@code --rules x0=lstm,x1=adam:0.1}. Without {@code --rules} one
 * learned rule serves both, as for every problem.
 */
public final class SimpleMultiProblem implements Problem {

  /** Where both scalars start, as in the official code. */
  private static final float X0 = 1f;

  /** {@code --problem simple-multi} has no options. */
  public record Config() {}

  /** The plug-in. */
  public static final ProblemType<Config> TYPE = new ProblemType<>("simple-multi",
      "x0^2 + x1^2 from (1, 1), each scalar its own parameter group (official simple-multi)",
      Config.class, new Config(), List.of("x0", "x1"), Map.of(),
      (c, context) -> new SimpleMultiProblem());

  @Override
  public String name() {
    return TYPE.name();
  }

  @Override
  public List<ParamSpec> params() {
    return List.of(new ParamSpec("x0", new long[] {1}), new ParamSpec("x1", new long[] {1}));
  }

  @Override
  public Instance sample(SplittableRandom rng) {
    return () -> new float[] {X0, X0};
  }

  @Override
  public ProblemGraph build(Ops tf, int unrollLength) {
    return new ProblemGraph() {
      @Override
      public Operand<TFloat32> loss(Ops tf, List<Operand<TFloat32>> params, int step) {
        Operand<TFloat32> x = tf.concat(params, tf.constant(0));
        return tf.withName("loss").reduceSum(tf.math.square(x), tf.constant(0));
      }

      @Override
      public void feed(Session.Runner runner, Instance instance, int unrollIndex,
          List<Tensor> owned) {
        // No data.
      }
    };
  }
}
