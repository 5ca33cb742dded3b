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
}
