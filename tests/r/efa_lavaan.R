# Golden values for custval.EFA(convention = "lavaan") and custval's GPArotation rotations.
#
# Run from the repository root:  Rscript tests/r/efa_lavaan.R
# Writes tests/golden/efa/lavaan_hs.json and tests/golden/efa/gparotation.json
# (jsonlite, digits = NA = full precision).
#
# References: lavaan 0.6-14, GPArotation 2022.10-2 (Debian r-cran-* packages), R 4.x.
#
# lavaan_hs.json: lavaan's EFA tutorial on Holzinger & Swineford (1939), items x1-x9 of
#   custval/_data/holzinger_swineford1939 (the same 301 rows as lavaan's HolzingerSwineford1939):
#     efa(data = hs, nfactors = 1:3)                       (geomin, epsilon .001, 30 random starts)
#     efa(data = hs, nfactors = 3, rotation = "oblimin", output = "lavaan")
#     efa(data = hs, nfactors = 3, rotation = "target", rotation.args = list(target = T_na))
#     efa(data = hs, nfactors = 3, rotation = "geomin", rotation.args = list(orthogonal = TRUE))
#   For each fit: the parameter table (est, se = bordered SEs of the rotated solution,
#   est.std, se.std = the standardised SEs the efa summary prints), all fitMeasures() and the
#   eigenvalues of the correlation matrix.  lavaan draws its random starting rotations with R's
#   RNG; the script refits the 3-factor geomin model under 5 other seeds and records the largest
#   difference of the standardised loadings ("seed_spread"): lavaan's answer does not depend on
#   the seed beyond its rotation tolerance (gpa.tol = 1e-5).
#
# gparotation.json: rotations of fixed unrotated loadings (stored in the file):
#   A3 = unrotated 3-factor ML loadings of x1-x9 (psych::fa(fm = "ml", rotate = "none")),
#   A4 = unrotated 4-factor minres loadings of the 10 bfi items A1-A5, C1-C5 (listwise).
#     GPArotation::geominQ(A3, delta = .001), targetQ / targetT (full target), targetQ with NA
#     (= pstQ with W = !is.na(target)), pstQ, pstT, bifactorQ / bifactorT (bi-quartimin),
#     and lavaan's bi-geomin (lavaan:::lav_matrix_rotate(method = "bigeomin"), oblique and
#     orthogonal, from the identity, no row weights, no reflection or reordering).
suppressPackageStartupMessages({
  library(lavaan)
  library(GPArotation)
  library(psych)
  library(jsonlite)
})

out_dir <- file.path("tests", "golden", "efa")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
mat <- function(m) {
  m <- unclass(as.matrix(m))
  list(rows = rownames(m), cols = colnames(m),
       values = unname(lapply(seq_len(nrow(m)), function(i) unname(as.numeric(m[i, ])))))
}
vec <- function(v) as.list(setNames(as.numeric(v), names(v)))

hs_all <- read.csv(file.path("custval", "_data", "holzinger_swineford1939",
                             "holzinger_swineford1939.csv"))
hs <- hs_all[, paste0("x", 1:9)]
stopifnot(max(abs(as.matrix(hs) - as.matrix(HolzingerSwineford1939[, paste0("x", 1:9)]))) < 1e-6)

partable <- function(fit) {
  pt <- fit@ParTable
  keep <- pt$op %in% c("=~", "~~")
  data.frame(lhs = pt$lhs[keep], op = pt$op[keep], rhs = pt$rhs[keep],
             est = pt$est[keep], se = pt$se[keep], est_std = pt$est.std[keep],
             se_std = pt$se.std[keep], est_unrotated = pt$est.unrotated[keep])
}
one_fit <- function(fit) {
  fm <- fitMeasures(fit)
  list(partable = partable(fit), fit_measures = vec(fm),
       converged = lavInspect(fit, "converged"),
       std_loadings = mat(lavInspect(fit, "std")$lambda),
       phi = mat(lavInspect(fit, "std")$psi))
}

set.seed(20261207)
fits <- efa(data = hs, nfactors = 1:3)
eig <- eigen(cor(hs), symmetric = TRUE, only.values = TRUE)$values
res <- list(
  n = nrow(hs), eigenvalues = eig,
  geomin = list(nf1 = one_fit(fits$nf1), nf2 = one_fit(fits$nf2), nf3 = one_fit(fits$nf3))
)
# the same 3-factor model under other seeds
spread <- 0
ref <- lavInspect(fits$nf3, "std")$lambda
for (s in 1:5) {
  set.seed(s)
  f <- efa(data = hs, nfactors = 3, output = "lavaan")
  spread <- max(spread, max(abs(lavInspect(f, "std")$lambda - ref)))
}
res$seed_spread <- spread

set.seed(20261207)
res$oblimin <- one_fit(efa(data = hs, nfactors = 3, rotation = "oblimin", output = "lavaan"))
T_na <- matrix(NA, 9, 3)
T_na[4:9, 1] <- 0; T_na[c(1:3, 7:9), 2] <- 0; T_na[1:6, 3] <- 0
res$target_na <- T_na
set.seed(20261207)
res$target <- one_fit(efa(data = hs, nfactors = 3, rotation = "target",
                          rotation.args = list(target = T_na), output = "lavaan"))
set.seed(20261207)
res$geomin_orth <- one_fit(efa(data = hs, nfactors = 3,
                               rotation.args = list(orthogonal = TRUE), output = "lavaan"))
write_json(res, file.path(out_dir, "lavaan_hs.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")

# ------------------------------------------------------------------ GPArotation rotations
rot_out <- function(r) {
  L <- unclass(r$loadings)
  list(loadings = mat(L), phi = if (is.null(r$Phi)) NULL else mat(r$Phi), th = mat(r$Th),
       f = r$Table[nrow(r$Table), 2], iterations = nrow(r$Table) - 1,
       convergence = r$convergence)
}
A3 <- unclass(fa(hs, nfactors = 3, fm = "ml", rotate = "none")$loadings)
bfi_all <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))
bfi10 <- na.omit(bfi_all[, c(paste0("A", 1:5), paste0("C", 1:5))])
A4 <- unclass(fa(bfi10, nfactors = 4, fm = "minres", rotate = "none")$loadings)
T_full <- matrix(0, 9, 3); T_full[1:3, 1] <- 1; T_full[4:6, 2] <- 1; T_full[7:9, 3] <- 1
W <- 1 * !is.na(T_na); T0 <- T_na; T0[is.na(T0)] <- 0
lav_bi <- function(A, orthogonal) {
  r <- lavaan:::lav_matrix_rotate(A = A, orthogonal = orthogonal, method = "bigeomin",
                                  method.args = list(geomin.epsilon = 0.01), init.ROT = diag(ncol(A)),
                                  rstarts = 0L, row.weights = "none", std.ov = FALSE,
                                  reflect = FALSE, order.lv.by = "none", gpa.tol = 1e-5,
                                  max.iter = 10000L, warn = FALSE)
  dimnames(r$LAMBDA) <- dimnames(A)
  list(loadings = mat(r$LAMBDA), phi = mat(r$PHI), th = mat(r$ROT), f = r$method.value,
       iterations = r$iter, convergence = r$converged)
}
gpa <- list(
  A3 = mat(A3), A4 = mat(A4), target_full = T_full, target_na = T_na, W = W,
  geominQ = rot_out(geominQ(A3, delta = 0.001)),
  targetQ = rot_out(targetQ(A3, Target = T_full)),
  targetT = rot_out(targetT(A3, Target = T_full)),
  targetQ_na = rot_out(targetQ(A3, Target = T_na)),
  pstQ = rot_out(pstQ(A3, W = W, Target = T0)),
  pstT = rot_out(pstT(A3, W = W, Target = T0)),
  bifactorQ = rot_out(bifactorQ(A4)),
  bifactorT = rot_out(bifactorT(A4)),
  bigeominQ_lavaan = lav_bi(A4, FALSE),
  bigeominT_lavaan = lav_bi(A4, TRUE)
)
write_json(gpa, file.path(out_dir, "gparotation.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
cat("done\n")
