package org.l2l.rule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.l2l.UserError;
import org.l2l.problem.ParamSpec;

/**
 * Which rule updates which parameter group ({@code --rules}): group names to rule specs.
 *
 * <ul>
 *   <li>{@code lstm}: a learned rule of the group's own, with its own weights phi, named as the
 *       group ({@code --rules conv=lstm,fc=lstm}: two LSTMs, the official code's cifar-multi);
 *   <li>{@code lstm:NAME}: the learned rule NAME, shared by every group that names it;
 *   <li>{@code sgd:LR}, {@code nag:LR}, {@code rmsprop:LR}, {@code adam:LR}: a hand-designed rule
 *       with that learning rate, not trained ({@code --rules x0=lstm,x1=adam:0.1}).
 * </ul>
 *
 * Groups not named share the run's default learned rule, {@code lstm:lstm}; so the empty map,
 * the default, gives one learned rule for every parameter, as in the paper. A learned rule NAME
 * lives in scope {@code lstm} if NAME is {@code lstm}, else {@code lstm_NAME}.
 *
 * @param assignments group to spec, in the order given
 */
public record RuleMap(Map<String, String> assignments) {

  /** The spec of groups not named: the run's default learned rule. */
  public static final String DEFAULT_SPEC = "lstm:" + CoordinatewiseLstm.SCOPE_DEFAULT;
  /** One learned rule for everything. */
  public static final RuleMap DEFAULT = new RuleMap(Map.of());

  /** Copies and checks every spec's form (not the group names: those depend on the problem). */
  public RuleMap {
    assignments = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(assignments));
    for (Map.Entry<String, String> e : assignments.entrySet()) {
      if (!e.getKey().matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
        throw UserError.flag("--rules", e.getKey() + "=" + e.getValue(),
            "a group name is a simple name (letters, digits, '_', '.', '-')");
      }
      parseSpec(e.getKey(), e.getValue());
    }
  }

  /** Parses {@code GROUP=SPEC,GROUP=SPEC}; null or empty is the default. */
  public static RuleMap parse(String value) {
    if (value == null || value.isBlank()) {
      return DEFAULT;
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (String part : value.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0 || eq == part.length() - 1) {
        throw UserError.flag("--rules", value, "each entry is GROUP=RULE, e.g. "
            + "x0=lstm,x1=adam:0.1");
      }
      String group = part.substring(0, eq).trim();
      if (m.put(group, part.substring(eq + 1).trim()) != null) {
        throw UserError.flag("--rules", value, "group " + group + " is named twice");
      }
    }
    return new RuleMap(m);
  }

  /** The {@code --rules} text of this map ("" for the default). */
  public String flag() {
    List<String> parts = new ArrayList<>();
    assignments.forEach((g, s) -> parts.add(g + "=" + s));
    return String.join(",", parts);
  }

  /** A parsed spec: a learned rule's name, or a hand-designed rule and its learning rate. */
  public record Spec(String learned, String baseline, double learningRate) {
    /** Whether this is a learned rule. */
    public boolean isLearned() {
      return learned != null;
    }
  }

  /** The parsed spec of {@code group}. */
  public static Spec parseSpec(String group, String spec) {
    String where = group + "=" + spec;
    if (spec.equals("lstm")) {
      return new Spec(group, null, 0);
    }
    if (spec.startsWith("lstm:")) {
      String name = spec.substring(5);
      if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
        throw UserError.flag("--rules", where, "lstm:NAME takes a simple name");
      }
      return new Spec(name, null, 0);
    }
    int colon = spec.indexOf(':');
    String rule = colon < 0 ? spec : spec.substring(0, colon);
    if (!Rules.BASELINES.contains(rule)) {
      throw UserError.flag("--rules", where, "unknown rule " + rule + "; allowed: lstm, "
          + "lstm:NAME, " + String.join(", ", Rules.BASELINES.stream().map(b -> b + ":LR")
          .toList()));
    }
    if (colon < 0) {
      throw UserError.flag("--rules", where, rule + " needs its learning rate, e.g. " + rule
          + ":0.1");
    }
    double lr;
    try {
      lr = Double.parseDouble(spec.substring(colon + 1));
    } catch (NumberFormatException e) {
      lr = Double.NaN;
    }
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw UserError.flag("--rules", where, "the learning rate must be a positive number");
    }
    return new Spec(null, rule, lr);
  }

  /** The scope of the learned rule called {@code name}. */
  public static String scopeOf(String name) {
    return name.equals(CoordinatewiseLstm.SCOPE_DEFAULT) ? name
        : CoordinatewiseLstm.SCOPE_DEFAULT + "_" + name;
  }

  /** The groups of {@code params}, in order of first appearance. */
  public static List<String> groups(List<ParamSpec> params) {
    List<String> groups = new ArrayList<>();
    for (ParamSpec p : params) {
      if (!groups.contains(p.group())) {
        groups.add(p.group());
      }
    }
    return groups;
  }

  /**
   * One rule and the parameters it updates.
   *
   * @param label a simple name, unique in the run: the learned rule's scope, or RULE_GROUP for a
   *     hand-designed one
   * @param rule the rule
   * @param groups the groups it updates
   * @param params indices into the problem's parameters, ascending
   */
  public record Binding(String label, UpdateRule rule, List<String> groups, List<Integer> params) {
    /** Whether this binding's rule is learned. */
    public boolean learned() {
      return rule instanceof LearnedRule;
    }
  }

  /**
   * The bindings of {@code params}: one per learned rule (groups sharing it together) and one per
   * group with a hand-designed rule, in order of the groups' first appearance.
   *
   * @param learned makes the learned rule of a scope (called once per learned rule, in order)
   * @param where names the problem in messages
   */
  public List<Binding> bind(List<ParamSpec> params, java.util.function.Function<String,
      LearnedRule> learned, String where) {
    List<String> groups = groups(params);
    check(groups, where);
    Map<String, List<String>> groupsOf = new LinkedHashMap<>(); // label -> groups
    Map<String, UpdateRule> rules = new LinkedHashMap<>();
    for (String g : groups) {
      Spec s = parseSpec(g, assignments.getOrDefault(g, DEFAULT_SPEC));
      String label = s.isLearned() ? scopeOf(s.learned()) : s.baseline() + "_" + g;
      if (!rules.containsKey(label)) {
        rules.put(label, s.isLearned() ? learned.apply(label)
            : Rules.baseline(s.baseline(), s.learningRate()));
      }
      groupsOf.computeIfAbsent(label, k -> new ArrayList<>()).add(g);
    }
    List<Binding> out = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : groupsOf.entrySet()) {
      List<Integer> indices = new ArrayList<>();
      for (int i = 0; i < params.size(); i++) {
        if (e.getValue().contains(params.get(i).group())) {
          indices.add(i);
        }
      }
      out.add(new Binding(e.getKey(), rules.get(e.getKey()), List.copyOf(e.getValue()),
          List.copyOf(indices)));
    }
    return out;
  }

  /** Checks that every group named is one of {@code groups} (of the problem {@code where}). */
  public void check(List<String> groups, String where) {
    for (String g : assignments.keySet()) {
      if (!groups.contains(g)) {
        throw UserError.flag("--rules", g + "=" + assignments.get(g), "no group " + g + " in "
            + where + " (its groups: " + String.join(", ", groups) + ")");
      }
    }
  }

  /**
   * Checks that some group of {@code groups} is left to a learned rule: meta-training needs one.
   */
  public void requireLearned(List<String> groups, String where) {
    for (String g : groups) {
      if (parseSpec(g, assignments.getOrDefault(g, DEFAULT_SPEC)).isLearned()) {
        return;
      }
    }
    throw UserError.flag("--rules", flag(), "every group of " + where + " has a hand-designed "
        + "rule; leave at least one to a learned rule (lstm or lstm:NAME), or compare "
        + "hand-designed rules with evaluate --baselines");
  }

  /** One binding of every parameter to {@code rule}. */
  public static List<Binding> all(List<ParamSpec> params, UpdateRule rule) {
    List<Integer> indices = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      indices.add(i);
    }
    String label = rule instanceof LearnedRule l ? l.scope() : rule.name();
    return List.of(new Binding(label, rule, groups(params), List.copyOf(indices)));
  }

}
