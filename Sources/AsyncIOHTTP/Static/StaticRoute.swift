import Glibc
import HTTPTypes

extension RouteAdding {
    /// Serves the files under `directory` at `prefix`: `GET /static/css/site.css` sends
    /// `directory/css/site.css` as a ``FileResponse`` (sendfile, ETag, ranges, 304s).
    ///
    /// The path after the prefix is percent-decoded and checked before any file is opened: a `..`
    /// segment (however encoded: `..`, `%2e%2e`) is `403`, a path that resolves outside the
    /// directory through a symlink is `403` unless `followSymlinks`, a directory is `403`, a
    /// missing file `404`. Symlinks that stay inside the directory are followed.
    ///
    /// - Parameters:
    ///   - prefix: the URL prefix, e.g. `/static` (no trailing `/`).
    ///   - directory: the directory to serve.
    ///   - followSymlinks: allow symlinks that lead out of `directory` (aiohttp's `follow_symlinks`).
    /// - Throws: ``RouterError`` as ``add(_:_:_:)``; ``RouterError/invalidPattern(_:_:)`` if
    ///   `directory` does not exist. Mirrors `router.add_static(prefix, path, follow_symlinks=False)`.
    public func addStatic(_ prefix: String, directory: String, followSymlinks: Bool = false) throws(RouterError) {
        guard let root = realPath(directory) else {
            throw .invalidPattern(prefix, "the directory \(directory) does not exist")
        }
        try add(.get, prefix + "/{filename:.*}") { request in
            let relative = request.matchInfo["filename"] ?? ""
            let path = try StaticFiles.resolve(relative, root: root, followSymlinks: followSymlinks)
            return FileResponse(path: path)
        }
    }
}

enum StaticFiles {
    /// The file `relative` names under `root` (a real path), or the HTTP error that refuses it.
    static func resolve(_ relative: String, root: String, followSymlinks: Bool) throws(HTTPError) -> String {
        var segments: [Substring] = []
        for segment in relative.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            guard segment != ".." else { throw .forbidden() }
            guard !segment.contains("\0") else { throw .notFound() }
            segments.append(segment)
        }
        let joined = root + "/" + segments.joined(separator: "/")
        guard let resolved = realPath(joined) else { throw .notFound() }
        if !followSymlinks, resolved != root, !resolved.hasPrefix(root == "/" ? "/" : root + "/") {
            throw .forbidden()
        }
        var info = stat()
        guard stat(resolved, &info) == 0 else { throw .notFound() }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .forbidden() }
        return followSymlinks ? joined : resolved
    }
}

/// `realpath(3)`: the absolute path without symlinks, `.` or `..`; nil if it does not exist.
func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
