package org.l2l.problem;

import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.op.Ops;

/**
 * An optimizee family: a parameter spec, a way to sample instances, and a loss built from given
 * parameter tensors (so the unroll, not the problem, owns the parameters).
 */
public interface Problem {

  /** The problem's name as given on the command line. */
  String name();

  /** The optimizee's parameter tensors, in the order of the flat coordinate vector. */
  List<ParamSpec> params();

  /** Total number of coordinates. */
  default long numCoordinates() {
    return params().stream().mapToLong(ParamSpec::size).sum();
  }

  /** Samples one instance, using only {@code rng} for randomness. */
  Instance sample(SplittableRandom rng);

  /** Adds the problem's placeholders to the graph; the result builds losses and feeds data. */
  ProblemGraph build(Ops tf, int unrollLength);

  /**
   * Whether the problem's graph has independent branches worth running side by side on
   * TensorFlow's inter-op threads (a convolution's input and filter gradients). Without them the
   * unroll is a chain of dependent ops, and handing ops from one thread to another costs more than
   * it gains: the session then runs the ops in the thread that runs the unroll, with no inter-op
   * threads (the ops' own intra-op threads and the LSTM kernels' threads still work in parallel).
   */
  default boolean parallelBranches() {
    return false;
  }
}
