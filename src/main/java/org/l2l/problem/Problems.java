package org.l2l.problem;

import java.util.List;
import org.l2l.UserError;

/** The registry of problems: one line per problem. */
public final class Problems {

  /** Every problem this build knows, in the order help lists them. */
  public static final List<ProblemType<?>> ALL = List.of(
      QuadraticProblem.TYPE,
      PolynomialProblem.TYPE,
      SimpleProblem.TYPE,
      SimpleMultiProblem.TYPE,
      MnistProblem.TYPE,
      ConvProblem.TYPE);

  /** The problem chosen by default. */
  public static final ProblemType<?> DEFAULT = QuadraticProblem.TYPE;

  private Problems() {}

  /** The names, for help and messages. */
  public static List<String> names() {
    return ALL.stream().map(ProblemType::name).toList();
  }

  /** The problem called {@code name}; an unknown name is a {@link UserError} of --problem. */
  public static ProblemType<?> byName(String name) {
    for (ProblemType<?> t : ALL) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    throw UserError.flag("--problem", name, "unknown; allowed: " + String.join(", ", names()));
  }
}
