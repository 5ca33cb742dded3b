package org.l2l.cli;

import org.l2l.meta.ProblemConfig;
import org.l2l.problem.ProblemType;
import org.l2l.problem.Problems;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.RuleMap;
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

  /**
   * The --rules given (the default when absent) for meta-training the chosen problem: every
   * group it names must be the problem's, and some group must be left to a learned rule. Checked
   * before any data is loaded.
   */
  RuleMap rules() {
    ProblemType<?> t = type();
    RuleMap rules = RecordOptions.rules(given());
    rules.check(t.groups(), "problem " + t.name());
    rules.requireLearned(t.groups(), "problem " + t.name());
    return rules;
  }

  /** The learned rule's settings: the problem's defaults with the options given. */
  CoordinatewiseLstm.Config lstm() {
    return RecordOptions.overlay(RecordOptions.lstmDefaults(type()), given());
  }
}
