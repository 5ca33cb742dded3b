package org.l2l.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares a setting once: a component of a configuration record that is also a command-line
 * flag. The record's canonical constructor validates it; its JSON key in config.json is the
 * component's name in snake_case ({@link Json}); the command line builds the option from this
 * annotation and the record's defaults, so flag, field, default and key cannot drift apart.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.FIELD})
public @interface Flag {

  /** The long option, e.g. {@code "--dims"}. */
  String name();

  /** The value's placeholder in help, e.g. {@code "N"}. */
  String label() default "X";

  /** One sentence of help; the default is appended by the command line. */
  String help();

  /**
   * Whether the setting is part of a run's identity: false for settings that may change when a
   * run is resumed because they change nothing it computes (where the data lives, how many
   * epochs, when to give up).
   */
  boolean identity() default true;
}
