import Foundation

/// Geodesics on an ellipsoid of revolution by Karney's method (C. F. F. Karney, "Algorithms for
/// geodesics", J. Geodesy 87, 43–55, 2013): the inverse problem (distance and azimuths between two
/// points) and the area under a geodesic edge, accurate to round-off for any pair of points,
/// antipodal ones included.
///
/// Written here because no Swift package in the mirror solves geodesics; it follows the paper's
/// equations, with its series in the third flattening carried to sixth order.
public struct Geodesic: Sendable {
    public static let wgs84 = Geodesic(equatorialRadius: 6_378_137, flattening: 1 / 298.257223563)

    public let a: Double
    public let f: Double
    let f1: Double, e2: Double, ep2: Double, n: Double, b: Double
    /// The authalic radius squared: 4πc² is the ellipsoid's area.
    let c2: Double
    /// Below this arc a line counts as short enough for the spherical solution (see the paper §5).
    let etol2: Double
    let a3x: [Double], c3x: [Double], c4x: [Double]

    static let order = 6
    static let maxit1 = 20, maxit2 = 20 + 53 + 10
    static let tiny = Double.leastNormalMagnitude.squareRoot()
    static let tol0 = Double.ulpOfOne
    static let tol1 = 200 * tol0
    static let tol2 = tol0.squareRoot()
    static let tolb = tol0 * tol2
    static let xthresh = 1000 * tol2

    public init(equatorialRadius a: Double, flattening f: Double) {
        self.a = a
        self.f = f
        f1 = 1 - f
        e2 = f * (2 - f)
        ep2 = e2 / ((1 - f) * (1 - f))
        n = f / (2 - f)
        b = a * (1 - f)
        let e = abs(e2).squareRoot()
        c2 = (a * a + b * b * (e2 == 0 ? 1 : (e2 > 0 ? atanh(e) : atan(e)) / e)) / 2
        etol2 = 0.1 * Self.tol2 / (max(0.001, abs(f)) * min(1, 1 - f / 2) / 2).squareRoot()
        a3x = Series.a3(n)
        c3x = Series.c3(n)
        c4x = Series.c4(n)
    }

    /// The full area of the ellipsoid, m².
    public var ellipsoidArea: Double { 4 * .pi * c2 }

    // MARK: Series in ε (coefficients fixed once per ellipsoid, in n)

    func a3(_ eps: Double) -> Double { Series.horner(a3x[...], eps) }

    /// C3[1…5] at ε.
    func c3(_ eps: Double) -> [Double] {
        var c = [Double](repeating: 0, count: Self.order)
        var mult = 1.0
        var o = 0
        for l in 1..<Self.order {
            let m = Self.order - l - 1
            mult *= eps
            c[l] = mult * Series.horner(c3x[o...(o + m)], eps)
            o += m + 1
        }
        return c
    }

    /// C4[0…5] at ε.
    func c4(_ eps: Double) -> [Double] {
        var c = [Double](repeating: 0, count: Self.order)
        var mult = 1.0
        var o = 0
        for l in 0..<Self.order {
            let m = Self.order - l - 1
            c[l] = mult * Series.horner(c4x[o...(o + m)], eps)
            o += m + 1
            mult *= eps
        }
        return c
    }

    /// The distance (`s12b`, in units of b) and the reduced length (`m12b`) with its secular
    /// coefficient `m0`, along a geodesic of parameter ε between arcs σ1 and σ2 (§3, eqs. 38–41).
    func lengths(
        eps: Double,
        sig12: Double,
        ssig1: Double,
        csig1: Double,
        dn1: Double,
        ssig2: Double,
        csig2: Double,
        dn2: Double
    )
        -> (s12b: Double, m12b: Double, m0: Double)
    {
        let a1 = Series.a1m1(eps)
        let c1 = Series.c1(eps)
        let a2 = Series.a2m1(eps)
        let c2 = Series.c2(eps)
        let m0 = a1 - a2
        let b1 = Series.sinSum(ssig2, csig2, c1) - Series.sinSum(ssig1, csig1, c1)
        let b2 = Series.sinSum(ssig2, csig2, c2) - Series.sinSum(ssig1, csig1, c2)
        let s12b = (1 + a1) * (sig12 + b1)
        let j12 = m0 * sig12 + ((1 + a1) * b1 - (1 + a2) * b2)
        // The parentheses keep (csig1·ssig2) and (ssig1·csig2) whole so coincident points cancel exactly.
        let m12b = dn2 * (csig1 * ssig2) - dn1 * (ssig1 * csig2) - csig1 * csig2 * j12
        return (s12b, m12b, m0)
    }
}

/// The series of the paper, in the third flattening n and in ε, to sixth order. Each table lists
/// polynomial coefficients (highest power first) followed by their common denominator.
enum Series {
    /// Evaluates a polynomial whose coefficients run from the highest power down.
    static func horner(_ p: ArraySlice<Double>, _ x: Double) -> Double {
        p.reduce(0) { $0 * x + $1 }
    }

    /// Reads `count` polynomials of decreasing order from a coefficient table, each evaluated at x.
    static func table(_ coeff: [Double], orders: [Int], at x: Double) -> [Double] {
        var o = 0
        return orders.map { m in
            defer { o += m + 2 }
            return horner(coeff[o...(o + m)], x) / coeff[o + m + 1]
        }
    }

    static func a1m1(_ eps: Double) -> Double {
        let t = horner([1, 4, 64, 0][...], eps * eps) / 256
        return (t + eps) / (1 - eps)
    }

    static func a2m1(_ eps: Double) -> Double {
        let t = horner([-11, -28, -192, 0][...], eps * eps) / 256
        return (t - eps) / (1 + eps)
    }

    /// C1[1…6] (index 0 unused).
    static func c1(_ eps: Double) -> [Double] {
        odd(eps, [-1, 6, -16, 32, -9, 64, -128, 2048, 9, -16, 768, 3, -5, 512, -7, 1280, -7, 2048])
    }

    /// C2[1…6] (index 0 unused).
    static func c2(_ eps: Double) -> [Double] {
        odd(eps, [1, 2, 16, 32, 35, 64, 384, 2048, 15, 80, 768, 7, 35, 512, 63, 1280, 77, 2048])
    }

    /// Coefficients c[l] = ε^l · P_l(ε²) for l = 1…6, P_l of order ⌊(6 − l)/2⌋.
    private static func odd(_ eps: Double, _ coeff: [Double]) -> [Double] {
        let eps2 = eps * eps
        let polys = table(coeff, orders: (1...6).map { (6 - $0) / 2 }, at: eps2)
        var c = [Double](repeating: 0, count: 7)
        var d = eps
        for l in 1...6 {
            c[l] = d * polys[l - 1]
            d *= eps
        }
        return c
    }

    /// A3's coefficients of ε^5 … ε^0, in n.
    static func a3(_ n: Double) -> [Double] {
        table(
            [-3, 128, -2, -3, 64, -1, -3, -1, 16, 3, -1, -2, 8, 1, -1, 2, 1, 1],
            orders: (0..<6).reversed().map { min(6 - $0 - 1, $0) },
            at: n
        )
    }

    /// C3[l]'s coefficients of ε^j (l = 1…5, j = 5 … l), in n.
    static func c3(_ n: Double) -> [Double] {
        let coeff: [Double] = [
            3, 128, 2, 5, 128, -1, 3, 3, 64, -1, 0, 1, 8, -1, 1, 4, 5, 256, 1, 3, 128, -3, -2, 3, 64, 1, -3, 2, 32, 7, 512, -10, 9, 384, 5,
            -9, 5, 192, 7, 512,
            -14, 7, 512, 21, 2560,
        ]
        let orders = (1..<6).flatMap { l in (l..<6).reversed().map { j in min(6 - j - 1, j) } }
        return table(coeff, orders: orders, at: n)
    }

    /// C4[l]'s coefficients of ε^j (l = 0…5, j = 5 … l), in n: the area series (§6).
    static func c4(_ n: Double) -> [Double] {
        let coeff: [Double] = [
            97, 15015, 1088, 156, 45045, -224, -4784, 1573, 45045, -10656, 14144, -4576, -858, 45045, 64, 624, -4576, 6864, -3003, 15015,
            100, 208, 572,
            3432, -12012, 30030, 45045, 1, 9009, -2944, 468, 135135, 5792, 1040, -1287, 135135, 5952, -11648, 9152, -2574, 135135, -64,
            -624, 4576, -6864,
            3003, 135135, 8, 10725, 1856, -936, 225225, -8448, 4992, -1144, 225225, -1440, 4160, -4576, 1716, 225225, -136, 63063, 1024,
            -208, 105105, 3584,
            -3328, 1144, 315315, -128, 135135, -2560, 832, 405405, 128, 99099,
        ]
        let orders = (0..<6).flatMap { l in (l..<6).reversed().map { j in 6 - j - 1 } }
        return table(coeff, orders: orders, at: n)
    }

    /// Σ c[l]·sin(2lσ) for l ≥ 1, by Clenshaw summation.
    static func sinSum(_ sinx: Double, _ cosx: Double, _ c: [Double]) -> Double {
        clenshaw(sine: true, sinx, cosx, c)
    }

    /// Σ c[l]·cos((2l+1)σ) for l ≥ 0, by Clenshaw summation.
    static func cosSum(_ sinx: Double, _ cosx: Double, _ c: [Double]) -> Double {
        clenshaw(sine: false, sinx, cosx, c)
    }

    private static func clenshaw(sine: Bool, _ sinx: Double, _ cosx: Double, _ c: [Double]) -> Double {
        var k = c.count
        var n = k - (sine ? 1 : 0)
        let ar = 2 * (cosx - sinx) * (cosx + sinx)
        var y0 = 0.0
        var y1 = 0.0
        if n & 1 == 1 {
            k -= 1
            y0 = c[k]
        }
        n /= 2
        while n > 0 {
            n -= 1
            k -= 1
            y1 = ar * y0 - y1 + c[k]
            k -= 1
            y0 = ar * y1 - y0 + c[k]
        }
        return sine ? 2 * sinx * cosx * y0 : cosx * (y0 - y1)
    }
}
