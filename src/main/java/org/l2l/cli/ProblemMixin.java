package org.l2l.cli;

import org.l2l.meta.ProblemConfig;
import org.l2l.problem.ProblemType;
import org.l2l.problem.Problems;
import org.l2l.rule.CoordinatewiseLstm;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code --problem} and, through it, the chosen problem's own options (added to the command by
 * {@link RecordOptions#addProblemOptions}) and its defaults for the learned rule.
 */
final class ProblemMixin {

  @Option(names = "--problem", paramLabel = "P", defaultValue = "quadratic",
      completionCandidates = Names.class,
      description = "Optimizee problem: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). "
          + "Its options follow; each says which problem it belongs to.")
  String problem;

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  /** The problem names, for help. */
  static final class Names extends java.util.ArrayList<String> {
    private static final long serialVersionUID = 1L;

    Names() {
      super(Problems.names());
    }
  }

  /** The chosen problem. */
  ProblemType<?> type() {
    return Problems.byName(problem);
  }

  private ParseResult given() {
    return spec.commandLine().getParseResult();
  }

  /** The chosen problem with its defaults and the options given; others' options refused. */
  ProblemConfig config() {
    ProblemType<?> t = type();
    RecordOptions.onlyOptionsOf(t, given());
    return new ProblemConfig(t, RecordOptions.overlay(t.defaults(), given()));
  }

  /** The learned rule's settings: the problem's defaults with the options given. */
  CoordinatewiseLstm.Config lstm() {
    return RecordOptions.overlay(RecordOptions.lstmDefaults(type()), given());
  }
}
