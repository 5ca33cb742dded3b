package org.l2l.cli;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.l2l.UserError;
import org.l2l.config.Flag;
import org.l2l.problem.ProblemType;
import org.l2l.problem.Problems;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.RuleMap;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Turns configuration records into command-line options and back: every component annotated
 * {@link Flag} becomes an option (its help, its label, its default appended), and a record is
 * rebuilt from a base value with the options the user gave laid over it. So a setting is declared
 * once, in its record; no command copies it into a field of its own.
 */
final class RecordOptions {

  private RecordOptions() {}

  /** The {@link Flag} components of {@code type}. */
  static List<RecordComponent> flagged(Class<? extends Record> type) {
    List<RecordComponent> out = new ArrayList<>();
    for (RecordComponent c : type.getRecordComponents()) {
      if (c.getAnnotation(Flag.class) != null) {
        out.add(c);
      }
    }
    return out;
  }

  /** The flag names of {@code type}. */
  static Set<String> flags(Class<? extends Record> type) {
    Set<String> out = new LinkedHashSet<>();
    flagged(type).forEach(c -> out.add(c.getAnnotation(Flag.class).name()));
    return out;
  }

  /** Adds an option for every flag of {@code type}; {@code defaults} gives the help's default. */
  static void add(CommandSpec spec, Class<? extends Record> type,
      Function<RecordComponent, String> defaults) {
    for (RecordComponent c : flagged(type)) {
      Flag f = c.getAnnotation(Flag.class);
      spec.addOption(option(f, c.getType(), capitalized(f.help()) + " (default: "
          + defaults.apply(c) + ")."));
    }
  }

  private static String capitalized(String s) {
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  /** Adds the flags of a record whose defaults are the one value {@code defaults}. */
  static void add(CommandSpec spec, Record defaults) {
    add(spec, defaults.getClass(), c -> text(value(defaults, c)));
  }

  private static OptionSpec option(Flag f, Class<?> type, String description) {
    OptionSpec.Builder b = OptionSpec.builder(f.name()).type(type).description(description);
    if (type != boolean.class) {
      b.paramLabel(f.label());
    }
    return b.build();
  }

  /**
   * Adds the options of every registered problem. A flag that several problems share (say
   * {@code --batch-size}) is one option whose help says what it means for each.
   */
  static void addProblemOptions(CommandSpec spec) {
    Map<String, List<String>> help = new LinkedHashMap<>();
    Map<String, RecordComponent> first = new LinkedHashMap<>();
    for (ProblemType<?> t : Problems.ALL) {
      for (RecordComponent c : flagged(t.configType())) {
        Flag f = c.getAnnotation(Flag.class);
        RecordComponent seen = first.putIfAbsent(f.name(), c);
        if (seen != null && seen.getType() != c.getType()) {
          throw new IllegalStateException(f.name() + " has two types across problems");
        }
        help.computeIfAbsent(f.name(), k -> new ArrayList<>()).add(t.name() + ": " + f.help()
            + " (default: " + text(value(t.defaults(), c)) + ").");
      }
    }
    for (Map.Entry<String, List<String>> e : help.entrySet()) {
      spec.addOption(option(first.get(e.getKey()).getAnnotation(Flag.class),
          first.get(e.getKey()).getType(), String.join(" ", e.getValue())));
    }
  }

  /** Adds the learned rule's options, with each problem's defaults in the help. */
  static void addLstmOptions(CommandSpec spec) {
    add(spec, CoordinatewiseLstm.Config.class, c -> {
      Map<String, List<String>> byValue = new LinkedHashMap<>();
      for (ProblemType<?> t : Problems.ALL) {
        byValue.computeIfAbsent(text(value(lstmDefaults(t), c)), k -> new ArrayList<>())
            .add(t.name());
      }
      if (byValue.size() == 1) {
        return byValue.keySet().iterator().next();
      }
      List<String> parts = new ArrayList<>();
      String most = byValue.entrySet().stream().max((a, b) -> Integer.compare(a.getValue().size(),
          b.getValue().size())).orElseThrow().getKey();
      byValue.forEach((v, names) -> {
        if (!v.equals(most)) {
          parts.add(String.join(", ", names) + " " + v);
        }
      });
      parts.add("otherwise " + most);
      return String.join("; ", parts);
    });
  }

  /** The learned rule's defaults on problem {@code t}: its own, with the problem's overrides. */
  static CoordinatewiseLstm.Config lstmDefaults(ProblemType<?> t) {
    return with(CoordinatewiseLstm.DEFAULTS, t.ruleDefaults());
  }

  /** {@code base} with the flags the user gave laid over it. */
  static <R extends Record> R overlay(R base, ParseResult given) {
    Map<String, Object> values = new LinkedHashMap<>();
    for (RecordComponent c : flagged(base.getClass())) {
      String name = c.getAnnotation(Flag.class).name();
      if (given.hasMatchedOption(name)) {
        values.put(name, given.matchedOptionValue(name, null));
      }
    }
    return with(base, values);
  }

  /** "FLAG GIVEN (the file's: VALUE)" for every flag given that differs from {@code saved}. */
  static List<String> differing(Record saved, ParseResult given) {
    List<String> out = new ArrayList<>();
    for (RecordComponent c : flagged(saved.getClass())) {
      String name = c.getAnnotation(Flag.class).name();
      Object mine = given.matchedOptionValue(name, null);
      Object theirs = value(saved, c);
      if (given.hasMatchedOption(name) && !mine.equals(theirs)) {
        out.add(name + " " + text(mine) + " (the file's: " + text(theirs) + ")");
      }
    }
    return out;
  }

  /** {@code base} with the components whose flags {@code byFlag} names replaced. */
  static <R extends Record> R with(R base, Map<String, ?> byFlag) {
    RecordComponent[] components = base.getClass().getRecordComponents();
    Object[] args = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      Flag f = components[i].getAnnotation(Flag.class);
      types[i] = components[i].getType();
      args[i] = f != null && byFlag.containsKey(f.name()) ? byFlag.get(f.name())
          : value(base, components[i]);
    }
    try {
      @SuppressWarnings("unchecked")
      Constructor<R> ctor = (Constructor<R>) base.getClass().getDeclaredConstructor(types);
      return ctor.newInstance(args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r; // a UserError from the record's validation
      }
      throw new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException | IllegalArgumentException e) {
      throw new IllegalStateException("cannot build " + base.getClass().getSimpleName() + ": "
          + e, e);
    }
  }

  /** The value of component {@code c} of {@code r}. */
  static Object value(Record r, RecordComponent c) {
    try {
      return c.getAccessor().invoke(r);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A default as help shows it. */
  static String text(Object v) {
    if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15) {
      return String.format(Locale.ROOT, "%.0f", d);
    }
    return String.valueOf(v);
  }

  /**
   * Refuses options of other problems than {@code chosen}: the flag, the problem and its own
   * options in one line.
   */
  static void onlyOptionsOf(ProblemType<?> chosen, ParseResult given) {
    Set<String> own = flags(chosen.configType());
    for (ProblemType<?> t : Problems.ALL) {
      for (String flag : flags(t.configType())) {
        if (!own.contains(flag) && given.hasMatchedOption(flag)) {
          throw UserError.flag(flag, given.matchedOption(flag).getValue(), "not an option of "
              + "problem " + chosen.name() + (own.isEmpty() ? " (it has none)"
              : " (its options: " + String.join(", ", own) + ")"));
        }
      }
    }
  }

  /** Adds {@code --rules}, naming each problem's parameter groups. */
  static void addRulesOption(CommandSpec spec) {
    List<String> groups = new ArrayList<>();
    for (ProblemType<?> t : Problems.ALL) {
      groups.add(t.name() + " " + String.join(", ", t.groups()));
    }
    spec.addOption(OptionSpec.builder("--rules").type(String.class)
        .paramLabel("GROUP=RULE,...").description("Rules per parameter group: RULE is lstm (a "
            + "learned rule of the group's own), lstm:NAME (the learned rule NAME, shared by the "
            + "groups that name it) or sgd|nag|rmsprop|adam:LR (hand-designed, not trained), "
            + "e.g. x0=lstm,x1=adam:0.1 or weights=lstm,biases=lstm. Groups not named share one "
            + "learned rule; without --rules one learned rule updates every parameter, as in the "
            + "paper. Groups: " + String.join("; ", groups) + ".").build());
  }

  /** The {@code --rules} given (the default map when absent). */
  static RuleMap rules(ParseResult given) {
    return RuleMap.parse(given.matchedOptionValue("--rules", null));
  }
}
