import Foundation

extension Geodesic {
    /// The solution of the inverse problem between two points.
    public struct Inverse: Sendable, Equatable {
        /// Metres along the shortest geodesic.
        public let distance: Double
        /// Azimuths (degrees clockwise from north) at each end, forward along the line.
        public let azimuth1: Double
        public let azimuth2: Double
        /// The area between the geodesic and the equator (m², signed; §6), for polygon areas.
        public let area: Double
    }

    /// The shortest distance on the ellipsoid between two points, in metres.
    public func distance(_ p1: Coordinate, _ p2: Coordinate) -> Double {
        inverse(p1, p2).distance
    }

    /// Solves the inverse problem (§4): the points are brought to a canonical form
    /// (0 ≤ λ12 ≤ 180°, φ1 ≤ 0, |φ2| ≤ |φ1|); meridional and equatorial lines are solved
    /// directly; any other by Newton's method on the azimuth at the first point, from a start
    /// that is exact for short lines and an astroid estimate for nearly antipodal ones.
    public func inverse(_ p1: Coordinate, _ p2: Coordinate) -> Inverse {
        var lat1 = p1.lat
        var lat2 = p2.lat
        var (lon12, lon12s) = Angle.difference(p1.lon, p2.lon)
        var lonsign: Double = lon12 >= 0 ? 1 : -1
        lon12 = lonsign * Angle.round(lon12)
        lon12s = Angle.round((180 - lon12) - lonsign * lon12s)
        let lam12 = lon12 * .pi / 180
        var slam12: Double
        var clam12: Double
        if lon12 > 90 {
            (slam12, clam12) = Angle.sincos(lon12s)
            clam12 = -clam12
        } else {
            (slam12, clam12) = Angle.sincos(lon12)
        }
        lat1 = Angle.round(lat1)
        lat2 = Angle.round(lat2)
        let swapp: Double = abs(lat1) < abs(lat2) ? -1 : 1
        if swapp < 0 {
            lonsign = -lonsign
            swap(&lat1, &lat2)
        }
        let latsign: Double = lat1 < 0 ? 1 : -1
        lat1 *= latsign
        lat2 *= latsign

        var (sbet1, cbet1) = Angle.sincos(lat1)
        sbet1 *= f1
        (sbet1, cbet1) = Angle.normalize(sbet1, cbet1)
        cbet1 = max(Self.tiny, cbet1)
        var (sbet2, cbet2) = Angle.sincos(lat2)
        sbet2 *= f1
        (sbet2, cbet2) = Angle.normalize(sbet2, cbet2)
        cbet2 = max(Self.tiny, cbet2)
        // Where |β1| and |β2| are equal up to round-off, make them exactly so: the iteration is
        // singular there otherwise.
        if cbet1 < -sbet1 {
            if cbet2 == cbet1 { sbet2 = sbet2 < 0 ? sbet1 : -sbet1 }
        } else if abs(sbet2) == -sbet1 {
            cbet2 = cbet1
        }
        let dn1 = (1 + ep2 * sbet1 * sbet1).squareRoot()
        let dn2 = (1 + ep2 * sbet2 * sbet2).squareRoot()

        var sig12 = 0.0
        var s12x = 0.0
        var salp1 = 0.0
        var calp1 = 0.0
        var salp2 = 0.0
        var calp2 = 0.0
        var somg12 = 2.0
        var comg12 = 0.0
        var omg12 = 0.0
        var meridian = lat1 == -90 || slam12 == 0

        if meridian {
            // Both ends on one meridian: the geodesic may run along it.
            calp1 = clam12
            salp1 = slam12
            calp2 = 1
            salp2 = 0
            let ssig1 = sbet1
            let csig1 = calp1 * cbet1
            let ssig2 = sbet2
            let csig2 = calp2 * cbet2
            sig12 = atan2(max(0, csig1 * ssig2 - ssig1 * csig2), csig1 * csig2 + ssig1 * ssig2)
            let l = lengths(eps: n, sig12: sig12, ssig1: ssig1, csig1: csig1, dn1: dn1, ssig2: ssig2, csig2: csig2, dn2: dn2)
            if sig12 < 1 || l.m12b >= 0 {
                s12x = sig12 < 3 * Self.tiny ? 0 : l.s12b * b
                if sig12 < 3 * Self.tiny { sig12 = 0 }
            } else {
                meridian = false  // a prolate ellipsoid near antipodal points: not a shortest path
            }
        }

        if !meridian && sbet1 == 0 && (f <= 0 || lon12s >= f * 180) {
            // Along the equator.
            calp1 = 0
            calp2 = 0
            salp1 = 1
            salp2 = 1
            s12x = a * lam12
            sig12 = lam12 / f1
            omg12 = sig12
        } else if !meridian {
            let start = inverseStart(
                sbet1: sbet1,
                cbet1: cbet1,
                dn1: dn1,
                sbet2: sbet2,
                cbet2: cbet2,
                dn2: dn2,
                lam12: lam12,
                slam12: slam12,
                clam12: clam12
            )
            (salp1, calp1) = (start.salp1, start.calp1)
            if start.sig12 >= 0 {
                // Short enough that the start is the solution.
                sig12 = start.sig12
                (salp2, calp2) = (start.salp2, start.calp2)
                s12x = sig12 * b * start.dnm
                omg12 = lam12 / (f1 * start.dnm)
            } else {
                var numit = 0
                var tripn = false
                var tripb = false
                var salp1a = Self.tiny
                var calp1a = 1.0
                var salp1b = Self.tiny
                var calp1b = -1.0
                var lambda = lambda12(
                    sbet1: sbet1,
                    cbet1: cbet1,
                    dn1: dn1,
                    sbet2: sbet2,
                    cbet2: cbet2,
                    dn2: dn2,
                    salp1: salp1,
                    calp1: calp1,
                    slam120: slam12,
                    clam120: clam12,
                    derivative: true
                )
                while numit < Self.maxit2 {
                    let v = lambda.lam12
                    // Reversed test so that a NaN escapes.
                    if tripb || !(abs(v) >= (tripn ? 8 : 1) * Self.tol0) { break }
                    // Keep the bracket [alp1a, alp1b] around the root.
                    if v > 0 && (numit > Self.maxit1 || calp1 / salp1 > calp1b / salp1b) {
                        salp1b = salp1
                        calp1b = calp1
                    } else if v < 0 && (numit > Self.maxit1 || calp1 / salp1 < calp1a / salp1a) {
                        salp1a = salp1
                        calp1a = calp1
                    }
                    numit += 1
                    var newton = false
                    if numit < Self.maxit1 && lambda.dlam12 > 0 {
                        let dalp1 = -v / lambda.dlam12
                        let sdalp1 = sin(dalp1)
                        let cdalp1 = cos(dalp1)
                        let nsalp1 = salp1 * cdalp1 + calp1 * sdalp1
                        if nsalp1 > 0 && abs(dalp1) < .pi {
                            calp1 = calp1 * cdalp1 - salp1 * sdalp1
                            salp1 = nsalp1
                            (salp1, calp1) = Angle.normalize(salp1, calp1)
                            tripn = abs(v) <= 16 * Self.tol0
                            newton = true
                        }
                    }
                    if !newton {
                        // Newton stepped outside the bracket or uphill: bisect instead.
                        salp1 = (salp1a + salp1b) / 2
                        calp1 = (calp1a + calp1b) / 2
                        (salp1, calp1) = Angle.normalize(salp1, calp1)
                        tripn = false
                        tripb = abs(salp1a - salp1) + (calp1a - calp1) < Self.tolb || abs(salp1 - salp1b) + (calp1 - calp1b) < Self.tolb
                    }
                    lambda = lambda12(
                        sbet1: sbet1,
                        cbet1: cbet1,
                        dn1: dn1,
                        sbet2: sbet2,
                        cbet2: cbet2,
                        dn2: dn2,
                        salp1: salp1,
                        calp1: calp1,
                        slam120: slam12,
                        clam120: clam12,
                        derivative: numit < Self.maxit1
                    )
                }
                (salp2, calp2, sig12) = (lambda.salp2, lambda.calp2, lambda.sig12)
                let l = lengths(
                    eps: lambda.eps,
                    sig12: sig12,
                    ssig1: lambda.ssig1,
                    csig1: lambda.csig1,
                    dn1: dn1,
                    ssig2: lambda.ssig2,
                    csig2: lambda.csig2,
                    dn2: dn2
                )
                s12x = l.s12b * b
                let sdomg12 = sin(lambda.domg12)
                let cdomg12 = cos(lambda.domg12)
                somg12 = slam12 * cdomg12 - clam12 * sdomg12
                comg12 = clam12 * cdomg12 + slam12 * sdomg12
            }
        }

        // The area between the geodesic and the equator (§6).
        let salp0 = salp1 * cbet1
        let calp0 = hypot(calp1, salp1 * sbet1)
        var s12Area = 0.0
        if calp0 != 0 && salp0 != 0 {
            let (ssig1, csig1) = Angle.normalize(sbet1, calp1 * cbet1)
            let (ssig2, csig2) = Angle.normalize(sbet2, calp2 * cbet2)
            let k2 = calp0 * calp0 * ep2
            let eps = k2 / (2 * (1 + (1 + k2).squareRoot()) + k2)
            let a4 = a * a * calp0 * salp0 * e2
            let c = c4(eps)
            s12Area = a4 * (Series.cosSum(ssig2, csig2, c) - Series.cosSum(ssig1, csig1, c))
        }
        if !meridian && somg12 > 1 {
            somg12 = sin(omg12)
            comg12 = cos(omg12)
        }
        let alp12: Double
        if !meridian && comg12 > -0.7071 && sbet2 - sbet1 < 1.75 {
            // tan(Γ/2) from the half-angle formula: accurate while the edge is not too long.
            let domg12 = 1 + comg12
            let dbet1 = 1 + cbet1
            let dbet2 = 1 + cbet2
            alp12 = 2 * atan2(somg12 * (sbet1 * dbet2 + sbet2 * dbet1), domg12 * (sbet1 * sbet2 + dbet1 * dbet2))
        } else {
            var salp12 = salp2 * calp1 - calp2 * salp1
            var calp12 = calp2 * calp1 + salp2 * salp1
            if salp12 == 0 && calp12 < 0 {
                salp12 = Self.tiny * calp1
                calp12 = -1
            }
            alp12 = atan2(salp12, calp12)
        }
        s12Area += c2 * alp12
        s12Area *= swapp * lonsign * latsign
        s12Area += 0

        if swapp < 0 {
            swap(&salp1, &salp2)
            swap(&calp1, &calp2)
        }
        salp1 *= swapp * lonsign
        calp1 *= swapp * latsign
        salp2 *= swapp * lonsign
        calp2 *= swapp * latsign
        return Inverse(distance: 0 + s12x, azimuth1: Angle.atan2d(salp1, calp1), azimuth2: Angle.atan2d(salp2, calp2), area: s12Area)
    }

    /// A starting azimuth for Newton's method (§4–5). For short lines the spherical solution with
    /// a mean latitude is already exact to round-off: then `sig12` ≥ 0 and the end azimuth is set.
    func inverseStart(
        sbet1: Double,
        cbet1: Double,
        dn1: Double,
        sbet2: Double,
        cbet2: Double,
        dn2: Double,
        lam12: Double,
        slam12: Double,
        clam12: Double
    )
        -> (sig12: Double, salp1: Double, calp1: Double, salp2: Double, calp2: Double, dnm: Double)
    {
        var sig12 = -1.0
        var salp2 = Double.nan
        var calp2 = Double.nan
        var dnm = Double.nan
        let sbet12 = sbet2 * cbet1 - cbet2 * sbet1
        let cbet12 = cbet2 * cbet1 + sbet2 * sbet1
        let sbet12a = sbet2 * cbet1 + cbet2 * sbet1
        let shortline = cbet12 >= 0 && sbet12 < 0.5 && cbet2 * lam12 < 0.5
        var somg12: Double
        var comg12: Double
        if shortline {
            var sbetm2 = (sbet1 + sbet2) * (sbet1 + sbet2)
            sbetm2 /= sbetm2 + (cbet1 + cbet2) * (cbet1 + cbet2)
            dnm = (1 + ep2 * sbetm2).squareRoot()
            let omg12 = lam12 / (f1 * dnm)
            somg12 = sin(omg12)
            comg12 = cos(omg12)
        } else {
            somg12 = slam12
            comg12 = clam12
        }
        var salp1 = cbet2 * somg12
        var calp1 =
            comg12 >= 0 ? sbet12 + cbet2 * sbet1 * somg12 * somg12 / (1 + comg12) : sbet12a - cbet2 * sbet1 * somg12 * somg12 / (1 - comg12)
        let ssig12 = hypot(salp1, calp1)
        let csig12 = sbet1 * sbet2 + cbet1 * cbet2 * comg12

        if shortline && ssig12 < etol2 {
            salp2 = cbet1 * somg12
            calp2 = sbet12 - cbet1 * sbet2 * (comg12 >= 0 ? somg12 * somg12 / (1 + comg12) : 1 - comg12)
            (salp2, calp2) = Angle.normalize(salp2, calp2)
            sig12 = atan2(ssig12, csig12)
        } else if abs(n) >= 0.1 || csig12 >= 0 || ssig12 >= 6 * abs(n) * .pi * cbet1 * cbet1 {
            // The spherical start is good enough.
        } else {
            // Nearly antipodal: scale to coordinates where the antipode is the origin and solve
            // the astroid equation for the start (§5). Oblate ellipsoids only (f > 0).
            let lam12x = atan2(-slam12, -clam12)
            let k2 = sbet1 * sbet1 * ep2
            let eps = k2 / (2 * (1 + (1 + k2).squareRoot()) + k2)
            let lamscale = f * cbet1 * a3(eps) * .pi
            let betscale = lamscale * cbet1
            let x = lam12x / lamscale
            let y = sbet12a / betscale
            if y > -Self.tol1 && x > -1 - Self.xthresh {
                salp1 = min(1, -x)
                calp1 = -(1 - salp1 * salp1).squareRoot()
            } else {
                let k = Self.astroid(x, y)
                let omg12a = lamscale * (-x * k / (1 + k))
                let somg = sin(omg12a)
                let comg = -cos(omg12a)
                salp1 = cbet2 * somg
                calp1 = sbet12a - cbet2 * sbet1 * somg * somg / (1 - comg)
            }
        }
        if !(salp1 <= 0) {
            (salp1, calp1) = Angle.normalize(salp1, calp1)
        } else {
            salp1 = 1
            calp1 = 0
        }
        return (sig12, salp1, calp1, salp2, calp2, dnm)
    }

    /// The positive root k of k⁴ + 2k³ − (x² + y² − 1)k² − 2y²k − y² = 0 (§5, eq. 55).
    static func astroid(_ x: Double, _ y: Double) -> Double {
        let p = x * x
        let q = y * y
        let r = (p + q - 1) / 6
        guard !(q == 0 && r <= 0) else { return 0 }
        let s = p * q / 4
        let r2 = r * r
        let r3 = r * r2
        let disc = s * (s + 2 * r3)
        var u = r
        if disc >= 0 {
            var t3 = s + r3
            t3 += t3 < 0 ? -disc.squareRoot() : disc.squareRoot()
            let t = cbrt(t3)
            u += t + (t != 0 ? r2 / t : 0)
        } else {
            let ang = atan2((-disc).squareRoot(), -(s + r3))
            u += 2 * r * cos(ang / 3)
        }
        let v = (u * u + q).squareRoot()
        let uv = u < 0 ? q / (v - u) : u + v
        let w = (uv - q) / (2 * v)
        return uv / ((uv + w * w).squareRoot() + w)
    }

    struct Lambda {
        var lam12: Double, salp2: Double, calp2: Double, sig12: Double
        var ssig1: Double, csig1: Double, ssig2: Double, csig2: Double
        var eps: Double, domg12: Double, dlam12: Double
    }

    /// The longitude difference reached by the geodesic leaving point 1 at azimuth α1, minus the
    /// target λ12 (the function Newton's method drives to zero), and its derivative in α1.
    func lambda12(
        sbet1: Double,
        cbet1: Double,
        dn1: Double,
        sbet2: Double,
        cbet2: Double,
        dn2: Double,
        salp1: Double,
        calp1 calp1In: Double,
        slam120: Double,
        clam120: Double,
        derivative: Bool
    ) -> Lambda {
        let calp1 = sbet1 == 0 && calp1In == 0 ? -Self.tiny : calp1In
        let salp0 = salp1 * cbet1
        let calp0 = hypot(calp1, salp1 * sbet1)
        let somg1 = salp0 * sbet1
        let comg1 = calp1 * cbet1
        let (ssig1, csig1) = Angle.normalize(sbet1, calp1 * cbet1)
        let salp2 = cbet2 != cbet1 ? salp0 / cbet2 : salp1
        let calp2 =
            cbet2 != cbet1 || abs(sbet2) != -sbet1
            ? (calp1 * cbet1 * calp1 * cbet1 + (cbet1 < -sbet1 ? (cbet2 - cbet1) * (cbet1 + cbet2) : (sbet1 - sbet2) * (sbet1 + sbet2)))
                .squareRoot() / cbet2
            : abs(calp1)
        let somg2 = salp0 * sbet2
        let comg2 = calp2 * cbet2
        let (ssig2, csig2) = Angle.normalize(sbet2, calp2 * cbet2)
        let sig12 = atan2(max(0, csig1 * ssig2 - ssig1 * csig2), csig1 * csig2 + ssig1 * ssig2)
        let somg12 = max(0, comg1 * somg2 - somg1 * comg2)
        let comg12 = comg1 * comg2 + somg1 * somg2
        let eta = atan2(somg12 * clam120 - comg12 * slam120, comg12 * clam120 + somg12 * slam120)
        let k2 = calp0 * calp0 * ep2
        let eps = k2 / (2 * (1 + (1 + k2).squareRoot()) + k2)
        let c = c3(eps)
        let b312 = Series.sinSum(ssig2, csig2, c) - Series.sinSum(ssig1, csig1, c)
        let domg12 = -f * a3(eps) * salp0 * (sig12 + b312)
        var dlam12 = Double.nan
        if derivative {
            if calp2 == 0 {
                dlam12 = -2 * f1 * dn1 / sbet1
            } else {
                let l = lengths(eps: eps, sig12: sig12, ssig1: ssig1, csig1: csig1, dn1: dn1, ssig2: ssig2, csig2: csig2, dn2: dn2)
                dlam12 = l.m12b * f1 / (calp2 * cbet2)
            }
        }
        return Lambda(
            lam12: eta + domg12,
            salp2: salp2,
            calp2: calp2,
            sig12: sig12,
            ssig1: ssig1,
            csig1: csig1,
            ssig2: ssig2,
            csig2: csig2,
            eps: eps,
            domg12: domg12,
            dlam12: dlam12
        )
    }
}

/// Angles in degrees, reduced and rounded so that the geodesic code sees exact symmetries.
enum Angle {
    /// s + t = u + v exactly, s the rounded sum.
    static func twoSum(_ u: Double, _ v: Double) -> (Double, Double) {
        let s = u + v
        var up = s - v
        var vpp = s - up
        up -= u
        vpp -= v
        return (s, -(up + vpp))
    }

    /// x reduced to (−180°, 180°].
    static func normalize(_ x: Double) -> Double {
        let y = x == 0 ? x : fmod(x, 360)
        return y <= -180 ? y + 360 : (y <= 180 ? y : y - 360)
    }

    /// y − x reduced to [−180°, 180°], with its rounding error.
    static func difference(_ x: Double, _ y: Double) -> (Double, Double) {
        var (d, t) = twoSum(normalize(-x), normalize(y))
        d = normalize(d)
        return twoSum(d == 180 && t > 0 ? -180 : d, t)
    }

    /// Rounds tiny angles to zero (steps of 2⁻⁵⁷ below 1/16°), avoiding near-singular cases.
    static func round(_ x: Double) -> Double {
        let z = 1.0 / 16
        var y = abs(x)
        if y < z { y = z - (z - y) }
        return x == 0 ? 0 : (x < 0 ? -y : y)
    }

    /// sin and cos of x degrees, exact at multiples of 90°.
    static func sincos(_ x: Double) -> (Double, Double) {
        var r = fmod(x, 360)
        let q = r.isNaN ? 0 : Int((r / 90 + 0.5).rounded(.down))
        r -= 90 * Double(q)
        r *= .pi / 180
        let s = sin(r)
        let c = cos(r)
        let (ss, cc): (Double, Double)
        switch ((q % 4) + 4) % 4 {
        case 1: (ss, cc) = (c, -s)
        case 2: (ss, cc) = (-s, -c)
        case 3: (ss, cc) = (-c, s)
        default: (ss, cc) = (s, c)
        }
        return x == 0 ? (x, cc) : (0 + ss, 0 + cc)
    }

    /// atan2 in degrees, exact in each quadrant's ends.
    static func atan2d(_ yIn: Double, _ xIn: Double) -> Double {
        var x = xIn
        var y = yIn
        var q = 0
        if abs(y) > abs(x) {
            q = 2
            swap(&x, &y)
        }
        if x < 0 {
            q += 1
            x = -x
        }
        let ang = atan2(y, x) * 180 / .pi
        switch q {
        case 1: return (y >= 0 ? 180 : -180) - ang
        case 2: return 90 - ang
        case 3: return -90 + ang
        default: return ang
        }
    }

    /// (x, y) scaled to unit length.
    static func normalize(_ x: Double, _ y: Double) -> (Double, Double) {
        let r = hypot(x, y)
        return (x / r, y / r)
    }
}
