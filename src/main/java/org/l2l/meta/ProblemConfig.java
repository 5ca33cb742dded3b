package org.l2l.meta;

import com.google.gson.JsonObject;
import java.util.Map;
import org.l2l.config.Json;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemType;
import org.l2l.problem.Problems;

/**
 * The chosen problem and its own options record; in config.json
 * {@code {"name": "quadratic", "batch_size": 1, "dims": 10, "distribution": "gaussian"}}.
 *
 * @param type the problem
 * @param options a record of {@code type.configType()}
 */
public record ProblemConfig(ProblemType<?> type, Record options) {

  /** Checks that the options belong to the problem. */
  public ProblemConfig {
    if (!type.configType().isInstance(options)) {
      throw new IllegalArgumentException(options + " are not options of " + type.name());
    }
  }

  /** The named problem with its defaults. */
  public static ProblemConfig defaults(String name) {
    ProblemType<?> t = Problems.byName(name);
    return new ProblemConfig(t, t.defaults());
  }

  /** The problem's name. */
  public String name() {
    return type.name();
  }

  /** Builds the problem (training data). */
  public Problem create() {
    return create(ProblemType.Context.QUIET);
  }

  /** Builds the problem. */
  public Problem create(ProblemType.Context context) {
    return type.create(options, context);
  }

  /** The JSON object: "name" then the options. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("name", type.name());
    for (Map.Entry<String, com.google.gson.JsonElement> e : Json.tree(options).entrySet()) {
      o.add(e.getKey(), e.getValue());
    }
    return o;
  }

  /** Reads {@link #toJson()}'s form; every option must be there. */
  public static ProblemConfig fromJson(JsonObject o) {
    ProblemType<?> t = Problems.byName(o.get("name").getAsString());
    JsonObject options = o.deepCopy();
    options.remove("name");
    return new ProblemConfig(t, Json.record(options, t.configType()));
  }
}
