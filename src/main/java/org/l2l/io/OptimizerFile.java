package org.l2l.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.l2l.UserError;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.LearnedRule;
import org.l2l.rule.LearnedRules;
import org.l2l.rule.RuleMap;

/**
 * A trained optimizer on disk: the weights phi of every learned rule of a run in one {@link
 * WeightsFile}, tensors named under each rule's scope ({@code lstm/layer0/kernel}), and metadata
 * that makes the file enough to run it:
 *
 * <pre>
 * "rules":   {"x0": "lstm", "x1": "adam:0.1"}          the run's --rules ({} = one rule for all)
 * "learned": [{"scope": "lstm_x0", "type": "coordinatewise-lstm", "config": {...}}, ...]
 * "lstm":    {...}   the config again when there is exactly one learned rule (as version 1 had)
 * </pre>
 *
 * A version-1 file (metadata {@code "lstm"} only) reads as one learned rule in scope {@code lstm}
 * for every parameter.
 */
public final class OptimizerFile {

  /** File name of the optimizer inside a checkpoint folder. */
  public static final String FILE_NAME = "optimizer" + WeightsFile.EXTENSION;
  /** Sub-folder of a run holding the best-by-evaluation optimizer. */
  public static final String BEST = "best";
  /** Sub-folder of a run holding the latest optimizer. */
  public static final String LATEST = "latest";

  /**
   * One trained learned rule.
   *
   * @param scope its scope and the prefix of its tensor names
   * @param type its {@link LearnedRule#type()}
   * @param config its settings as JSON
   * @param values its weights, in {@link LearnedRule#paramNames()} order
   */
  public record TrainedRule(String scope, String type, JsonObject config, List<float[]> values) {
    /** The rule, computing its cell with {@code kernel} in an unroll. */
    public LearnedRule rule(CoordinatewiseLstm.Kernel kernel) {
      return LearnedRules.create(type, config, scope, kernel, scope);
    }

    /** The rule with stock ops. */
    public LearnedRule rule() {
      return rule(CoordinatewiseLstm.Kernel.STOCK);
    }
  }

  /**
   * A loaded optimizer.
   *
   * @param rules which group each learned or hand-designed rule updates
   * @param learned the learned rules, in the order of the run's unroll
   * @param metadata the file's metadata
   */
  public record Loaded(RuleMap rules, List<TrainedRule> learned, JsonObject metadata) {

    /** The learned rule in {@code scope}; a missing one is a {@link UserError}. */
    public TrainedRule learned(String scope) {
      for (TrainedRule r : learned) {
        if (r.scope().equals(scope)) {
          return r;
        }
      }
      throw new UserError("the optimizer has no learned rule " + scope + " (it has: "
          + String.join(", ", learned.stream().map(TrainedRule::scope).toList()) + ")");
    }

    /**
     * The only learned rule, for uses that take one (export of a one-rule run,
     * LearnedOptimizer); with several, a {@link UserError} that names them.
     */
    public TrainedRule single() {
      if (learned.size() != 1) {
        throw new UserError("the optimizer has " + learned.size() + " learned rules ("
            + String.join(", ", learned.stream().map(TrainedRule::scope).toList())
            + "); name one");
      }
      return learned.get(0);
    }

    /** The weights of every learned rule, in file order, joined. */
    public List<float[]> values() {
      List<float[]> all = new ArrayList<>();
      learned.forEach(r -> all.addAll(r.values()));
      return all;
    }

    /** The weights of the learned rules in {@code scopes} order, joined. */
    public List<float[]> values(List<String> scopes) {
      List<float[]> all = new ArrayList<>();
      for (String s : scopes) {
        all.addAll(learned(s).values());
      }
      return all;
    }
  }

  private OptimizerFile() {}

  /**
   * Writes the learned rules {@code learned} with their weights {@code values} (all rules'
   * tensors in order, as an unroll's meta-parameters), the run's {@code rules}, plus {@code
   * extra} metadata.
   */
  public static void write(Path file, RuleMap rules, List<? extends LearnedRule> learned,
      List<float[]> values, JsonObject extra) throws IOException {
    List<WeightsFile.NamedTensor> tensors = new ArrayList<>();
    JsonArray described = new JsonArray();
    int at = 0;
    for (LearnedRule r : learned) {
      List<String> names = r.paramNames();
      List<long[]> shapes = r.paramShapes();
      for (int i = 0; i < names.size(); i++) {
        tensors.add(new WeightsFile.NamedTensor(names.get(i), shapes.get(i), values.get(at++)));
      }
      JsonObject d = new JsonObject();
      d.addProperty("scope", r.scope());
      d.addProperty("type", r.type());
      d.add("config", r.configJson());
      described.add(d);
    }
    if (at != values.size()) {
      throw new IllegalArgumentException("expected " + at + " tensors, got " + values.size());
    }
    JsonObject meta = extra == null ? new JsonObject() : extra.deepCopy();
    meta.addProperty("optimizer", learned.size() == 1 ? learned.get(0).type() : "l2l-rules");
    JsonObject map = new JsonObject();
    rules.assignments().forEach(map::addProperty);
    meta.add("rules", map);
    meta.add("learned", described);
    if (learned.size() == 1) {
      meta.add("lstm", learned.get(0).configJson());
    }
    WeightsFile.write(file, tensors, meta);
  }

  /** Writes one learned rule that updates every parameter. */
  public static void write(Path file, LearnedRule rule, List<float[]> values, JsonObject extra)
      throws IOException {
    write(file, RuleMap.DEFAULT, List.of(rule), values, extra);
  }

  /** Reads an optimizer file (version 1 or 2) and checks its tensors against its rules. */
  public static Loaded read(Path file) {
    WeightsFile.Weights w = WeightsFile.read(file);
    JsonObject meta = w.metadata();
    RuleMap rules = RuleMap.DEFAULT;
    List<JsonObject> described = new ArrayList<>();
    try {
      if (meta.has("learned")) {
        for (JsonElement e : meta.getAsJsonArray("learned")) {
          described.add(e.getAsJsonObject());
        }
        Map<String, String> m = new LinkedHashMap<>();
        meta.getAsJsonObject("rules").entrySet()
            .forEach(e -> m.put(e.getKey(), e.getValue().getAsString()));
        rules = new RuleMap(m);
      } else if (meta.has("lstm")) { // version 1: one LSTM for everything
        JsonObject d = new JsonObject();
        d.addProperty("scope", CoordinatewiseLstm.SCOPE_DEFAULT);
        d.addProperty("type", CoordinatewiseLstm.TYPE);
        d.add("config", meta.getAsJsonObject("lstm"));
        described.add(d);
      } else {
        throw FormatException.of(file, "not a trained optimizer (no \"learned\" rules and no "
            + "\"lstm\" configuration)");
      }
    } catch (FormatException e) {
      throw e;
    } catch (RuntimeException e) {
      throw FormatException.of(file, "the optimizer's metadata is invalid (" + e.getMessage()
          + ")");
    }
    List<TrainedRule> learned = new ArrayList<>();
    for (JsonObject d : described) {
      LearnedRule rule;
      try {
        rule = LearnedRules.create(d.get("type").getAsString(), d.getAsJsonObject("config"),
            d.get("scope").getAsString(), CoordinatewiseLstm.Kernel.STOCK, file);
      } catch (FormatException e) {
        throw e;
      } catch (UserError e) { // already "FILE: what is wrong"
        throw new FormatException(e.getMessage(), e);
      } catch (RuntimeException e) {
        throw FormatException.of(file, "a learned rule's description is invalid ("
            + e.getMessage() + ")");
      }
      List<float[]> values = new ArrayList<>();
      List<long[]> shapes = rule.paramShapes();
      List<String> names = rule.paramNames();
      for (int i = 0; i < names.size(); i++) {
        WeightsFile.NamedTensor t;
        try {
          t = w.tensor(names.get(i));
        } catch (FormatException e) {
          throw FormatException.of(file, e.getMessage());
        }
        if (!Arrays.equals(t.shape(), shapes.get(i))) {
          throw FormatException.of(file, "tensor " + names.get(i) + " has shape "
              + Arrays.toString(t.shape()) + ", the configuration needs "
              + Arrays.toString(shapes.get(i)));
        }
        values.add(t.values());
      }
      learned.add(new TrainedRule(rule.scope(), rule.type(), rule.configJson(), values));
    }
    return new Loaded(rules, List.copyOf(learned), meta);
  }

  /**
   * The optimizer file that {@code path} names: the file itself, or in a run folder the best
   * optimizer (the latest if no evaluation has been saved yet).
   */
  public static Path resolve(Path path) {
    if (Files.isRegularFile(path)) {
      return path;
    }
    if (!Files.isDirectory(path)) {
      throw FormatException.of(path, "no such file or folder");
    }
    for (String sub : List.of(BEST, LATEST)) {
      Path candidate = path.resolve(sub).resolve(FILE_NAME);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    Path direct = path.resolve(FILE_NAME);
    if (Files.isRegularFile(direct)) {
      return direct;
    }
    throw FormatException.of(path, "holds no trained optimizer (looked for " + BEST + "/"
        + FILE_NAME + ", " + LATEST + "/" + FILE_NAME + " and " + FILE_NAME + ")");
  }
}
