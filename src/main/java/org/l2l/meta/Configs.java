package org.l2l.meta;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Comparison of JSON configurations, key by key, for messages that name what differs. */
public final class Configs {

  private Configs() {}

  /** Flattens nested objects into dotted keys ("lstm.hidden_size" -> 20). */
  public static Map<String, JsonElement> flatten(JsonObject o) {
    Map<String, JsonElement> out = new TreeMap<>();
    flatten("", o, out);
    return out;
  }

  private static void flatten(String prefix, JsonObject o, Map<String, JsonElement> out) {
    for (Map.Entry<String, JsonElement> e : o.entrySet()) {
      String key = prefix + e.getKey();
      if (e.getValue().isJsonObject()) {
        flatten(key + ".", e.getValue().getAsJsonObject(), out);
      } else {
        out.put(key, e.getValue());
      }
    }
  }

  /** The dotted keys whose values differ (or exist on one side only). */
  public static List<String> differingKeys(JsonObject a, JsonObject b) {
    Map<String, JsonElement> fa = flatten(a);
    Map<String, JsonElement> fb = flatten(b);
    List<String> keys = new ArrayList<>();
    TreeMap<String, Boolean> all = new TreeMap<>();
    fa.keySet().forEach(k -> all.put(k, true));
    fb.keySet().forEach(k -> all.put(k, true));
    for (String k : all.keySet()) {
      if (!java.util.Objects.equals(fa.get(k), fb.get(k))) {
        keys.add(k);
      }
    }
    return keys;
  }

  /** "key (a: x, b: y), ..." for every differing key. */
  public static String differences(JsonObject a, JsonObject b, String nameA, String nameB) {
    Map<String, JsonElement> fa = flatten(a);
    Map<String, JsonElement> fb = flatten(b);
    List<String> parts = new ArrayList<>();
    for (String k : differingKeys(a, b)) {
      parts.add(k + " (" + nameA + ": " + fa.get(k) + ", " + nameB + ": " + fb.get(k) + ")");
    }
    return String.join(", ", parts);
  }
}
