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

  /** A loss and its gradients with respect to each parameter, built together. */
  record LossAndGradients(Operand<TFloat32> loss, List<Operand<TFloat32>> gradients) {}

  /**
   * The loss at step {@code step} (built in {@code tf}, as {@link #loss} builds it) with its
   * gradients d loss / d params written out (built in {@code grad}), or null, the default, to have
   * the unroll take them with TensorFlow's symbolic gradients. A problem writes them out where its
   * backward pass is a few plain ops: TensorFlow's gradients of broadcasting adds and reductions
   * add shape bookkeeping ops on every step's critical path. The written-out gradients must be
   * TensorFlow's, bit for bit (the same ops on the same values in the same order).
   */
  default LossAndGradients lossAndGradients(Ops tf, Ops grad, List<Operand<TFloat32>> params,
      int step) {
    return null;
  }

  /**
   * Feeds the data of {@code instance} for the unroll with index {@code unrollIndex}. Tensors
   * created here are added to {@code owned}; the caller closes them after the run.
   */
  void feed(Session.Runner runner, Instance instance, int unrollIndex, List<Tensor> owned);
}
