/// The version of this build, shown by `cairn --version`, in the server's start line and as
/// `cairn_build_info` in `/metrics`. Raised by hand with each release.
public enum CairnVersion {
    public static let current = "0.17.0"
}
