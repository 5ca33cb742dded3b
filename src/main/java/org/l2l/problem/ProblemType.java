package org.l2l.problem;

import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * A problem as a plug-in: its name, its options as a record of {@link org.l2l.config.Flag}
 * components with their defaults, the defaults it wants for the learned rule's settings, and the
 * factory that builds the problem (and loads its data). Registered in one line in {@link
 * Problems#ALL}; the command line, config.json and help are derived from it.
 *
 * @param name the name given with {@code --problem}
 * @param summary one line for help
 * @param configType the options record
 * @param defaults the options' defaults
 * @param groups the parameter groups of its parameters, for {@code --rules} (the problem's
 *     {@link ParamSpec#group()}s, in order)
 * @param ruleDefaults defaults of rule settings for this problem, by flag (e.g. {@code
 *     "--output-scale" -> 0.1}); flags not named keep the rule's own defaults
 * @param factory builds the problem from validated options
 * @param <C> the options record
 */
public record ProblemType<C extends Record>(String name, String summary, Class<C> configType,
    C defaults, List<String> groups, Map<String, Object> ruleDefaults, BiFunction<C, Context, Problem> factory) {

  /**
   * What building a problem may need beyond its options.
   *
   * @param evaluation draw data from the test split (evaluate), not the training split
   * @param log progress lines (fetching data), for the command line to print
   */
  public record Context(boolean evaluation, Consumer<String> log) {
    /** Training data, progress lines dropped. */
    public static final Context QUIET = new Context(false, line -> { });
  }

  /** Builds the problem from options of this type; {@code options} must be a {@code C}. */
  public Problem create(Record options, Context context) {
    return factory.apply(configType.cast(options), context);
  }
}
