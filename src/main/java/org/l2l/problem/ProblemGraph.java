package org.l2l.problem;

import java.util.List;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.Operand;

/**
 * The graph side of a problem, built once per graph by {@link Problem#build}: placeholders for
 * an instance's data and the loss as a function of given parameter tensors.
 *
 * <p>Order of calls: {@code loss} while the graph is built (once per unroll step), then {@code feed}
 * before every session run of an unroll.
 */
public interface ProblemGraph {

  /**
   * The optimizee loss f(theta) at step {@code step} of an unroll (0..unrollLength), a scalar.
   * Problems whose data change per step (minibatches) use {@code step} to pick the data.
   *
   * @param params one operand per {@link ParamSpec}, shaped as the spec says
   */
  Operand<TFloat32> loss(Ops tf, List<Operand<TFloat32>> params, int step);

  /**
   * Feeds the data of {@code instance} for the unroll with index {@code unrollIndex}. Tensors
   * created here are added to {@code owned}; the caller closes them after the run.
   */
  void feed(Session.Runner runner, Instance instance, int unrollIndex, List<Tensor> owned);
}
