package org.l2l.data;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Makes sure a data directory holds the six CIFAR-10 binary files ({@link Cifar10#FILE_NAMES}),
 * fetching the official archive when they are absent.
 *
 * <p>The archive ({@link #URL}, 162 MiB) is downloaded under a hidden temporary name in the data
 * directory, checked against its published MD5 ({@link #MD5}), and the six files are extracted
 * ({@link TarGz}) into a hidden temporary folder and checked ({@link Cifar10#check}); only then
 * is the folder renamed to {@value Cifar10#BATCHES_DIR} in one step (or, if that folder already
 * holds some of the files, each missing file is renamed into it). A failed or interrupted fetch
 * therefore never leaves a partial data folder, at worst a hidden {@code .part} file or folder.
 *
 * <p>None of the package registries ships CIFAR-10, so on a machine that reaches only those the
 * download fails, quickly (connect timeout {@link #CONNECT_TIMEOUT}); the message then says how
 * to place the files by hand.
 */
public final class Cifar10Fetcher {

    /** The official archive of the binary version. */
    public static final URI URL = URI.create(
            "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
    /** The archive's MD5, as published beside it. */
    public static final String MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
    /** Short, so a machine without internet access fails quickly. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Time allowed for the server to start answering. */
    static final Duration RESPONSE_TIMEOUT = Duration.ofMinutes(2);
    /** Time allowed for the whole download (162 MiB; 90 KiB/s at the least). */
    static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(30);

    private static final String ARCHIVE_NAME = "cifar-10-binary.tar.gz";
    private static final int HTTP_OK = 200;
    private static final int DIGEST_BUFFER_BYTES = 1 << 16;

    private Cifar10Fetcher() {
    }

    /**
     * Ensures {@code dataDir} holds the six CIFAR-10 files (directly or in its
     * {@value Cifar10#BATCHES_DIR} subfolder), downloading the official archive if any is
     * missing; does nothing if all are present.
     *
     * @param dataDir the data directory, created if needed
     * @param log     receives one line per step, e.g. "downloading ... ..."
     * @throws DataException if the files could not be obtained, saying what was tried and how to
     *                       place the files by hand
     */
    public static void ensure(Path dataDir, Consumer<String> log) {
        ensure(dataDir, log, URL, MD5);
    }

    /**
     * As {@link #ensure(Path, Consumer)} from another address with another expected MD5, so that
     * tests can serve a small generated archive.
     */
    static void ensure(Path dataDir, Consumer<String> log, URI url, String md5) {
        if (Cifar10.missing(dataDir).isEmpty()) {
            return;
        }
        try {
            FetchSupport.createDirectories(dataDir);
            fetch(dataDir, log, url, md5);
        } catch (DataException e) {
            throw new DataException("could not obtain CIFAR-10 in " + dataDir + ": "
                    + e.getMessage() + ". Download " + url
                    + " (MD5 " + md5 + ") and extract it there, or place the six files "
                    + Cifar10.FILES_DESCRIPTION + " (or the " + Cifar10.BATCHES_DIR
                    + " folder holding them) in a directory and pass it with --data-dir", e);
        }
        log.accept("CIFAR-10 ready in " + dataDir);
    }

    private static void fetch(Path dataDir, Consumer<String> log, URI url, String md5) {
        Path archive = FetchSupport.newPartFile(dataDir, ARCHIVE_NAME);
        try {
            log.accept("downloading " + url + " ...");
            download(url, archive);
            String actual = md5(archive, url);
            if (!actual.equals(md5)) {
                throw new DataException(url + ": MD5 of the download is " + actual
                        + ", expected " + md5 + " (cut off, corrupt or another file)");
            }
            log.accept("extracting " + Cifar10.FILE_NAMES.size() + " files from "
                    + ARCHIVE_NAME);
            Path staging = FetchSupport.newPartDirectory(dataDir, Cifar10.BATCHES_DIR);
            try {
                extract(archive, staging, url);
                install(staging, dataDir.resolve(Cifar10.BATCHES_DIR), log);
            } finally {
                FetchSupport.deleteTree(staging);
            }
        } finally {
            FetchSupport.deleteQuietly(archive);
        }
    }

    private static void download(URI url, Path archive) {
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        HttpRequest request = HttpRequest.newBuilder(url).timeout(RESPONSE_TIMEOUT).GET().build();
        CompletableFuture<HttpResponse<Path>> future =
                client.sendAsync(request, HttpResponse.BodyHandlers.ofFile(archive));
        HttpResponse<Path> response;
        try {
            // The request timeout ends at the response headers; this bounds the body too.
            response = future.get(DOWNLOAD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new DataException(url + ": download not finished after "
                    + FetchSupport.duration(DOWNLOAD_TIMEOUT), e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new DataException(url + ": " + FetchSupport.describe(cause), cause);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new DataException(url + ": interrupted", e);
        }
        if (response.statusCode() != HTTP_OK) {
            throw new DataException(url + ": HTTP status " + response.statusCode());
        }
    }

    private static String md5(Path file, URI url) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has MD5", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[DIGEST_BUFFER_BYTES];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new DataException(url + ": cannot read the download " + file + " ("
                    + FetchSupport.describe(e) + ")", e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Extracts the six files into {@code staging} and checks each. */
    private static void extract(Path archive, Path staging, URI url) {
        Map<String, Path> targets = new LinkedHashMap<>();
        for (String name : Cifar10.FILE_NAMES) {
            targets.put(Cifar10.BATCHES_DIR + "/" + name, staging.resolve(name));
        }
        Set<String> found;
        try {
            found = TarGz.extract(archive, targets);
        } catch (DataException e) {
            throw new DataException(url + ": " + e.getMessage(), e);
        }
        for (String entry : targets.keySet()) {
            if (!found.contains(entry)) {
                throw new DataException(url + ": the archive has no " + entry);
            }
        }
        for (String name : Cifar10.FILE_NAMES) {
            try {
                Cifar10.check(staging.resolve(name));
            } catch (DataException e) {
                throw new DataException(url + ": extracted " + name + " is invalid: "
                        + e.getMessage(), e);
            }
        }
    }

    /**
     * Renames the checked folder to {@code target} in one step, or, if {@code target} exists,
     * renames each file it lacks into it (files already there are kept).
     */
    private static void install(Path staging, Path target, Consumer<String> log) {
        if (!Files.exists(target)) {
            FetchSupport.commit(staging, target, log);
            return;
        }
        if (!Files.isDirectory(target)) {
            throw new DataException(target + ": exists but is not a folder; move it away");
        }
        for (String name : Cifar10.FILE_NAMES) {
            if (!Files.isRegularFile(target.resolve(name))) {
                FetchSupport.commit(staging.resolve(name), target.resolve(name), log);
            }
        }
    }
}
