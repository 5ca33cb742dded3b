package org.l2l.config;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.lang.reflect.RecordComponent;

/**
 * The one JSON style of the project's files: snake_case keys made from record components, NaN
 * and infinities as bare tokens, pretty-printed.
 */
public final class Json {

  /** Records to JSON and back, keys in snake_case. */
  public static final Gson GSON = new GsonBuilder()
      .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
      .serializeSpecialFloatingPointValues().disableHtmlEscaping().setPrettyPrinting().create();

  private Json() {}

  /** The JSON object of a record. */
  public static JsonObject tree(Record r) {
    return GSON.toJsonTree(r).getAsJsonObject();
  }

  /**
   * The record of type {@code type} from {@code o}: every component must be present (a missing
   * one would silently become 0 or null); keys that are not components are an error too. The
   * record's constructor validates the values.
   */
  public static <R extends Record> R record(JsonObject o, Class<R> type) {
    for (RecordComponent c : type.getRecordComponents()) {
      if (!o.has(key(c.getName()))) {
        throw new JsonParseException("missing \"" + key(c.getName()) + "\"");
      }
    }
    for (String k : o.keySet()) {
      boolean known = false;
      for (RecordComponent c : type.getRecordComponents()) {
        known |= key(c.getName()).equals(k);
      }
      if (!known) {
        throw new JsonParseException("unknown key \"" + k + "\"");
      }
    }
    try {
      return GSON.fromJson(o, type);
    } catch (RuntimeException e) {
      // Gson wraps what the record's constructor threw: its validation message is the news.
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof org.l2l.UserError u) {
          throw u;
        }
      }
      throw e;
    }
  }

  /** The JSON key of a component name: {@code batchSize} -> {@code batch_size}. */
  public static String key(String componentName) {
    return componentName.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
  }

  /** Pretty-printed text of {@code e} with a final newline. */
  public static String text(JsonElement e) {
    return GSON.toJson(e) + "\n";
  }
}
