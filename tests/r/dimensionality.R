# Golden values for custval.dimensionality, custval.efa and custval.correlation.
#
# Run from the repository root:  Rscript tests/r/dimensionality.R
# Writes tests/golden/dimensionality/*.json (jsonlite, digits = NA = full precision)
# and tests/golden/dimensionality/simulated.csv (SIMULATED data, seeded below).
#
# References: psych 2.2.9, GPArotation 2022.10-2 (Debian r-cran-* packages).
#
# Data sets (missing-data rule stated, because it changes the numbers):
#   * bfi_complete: bfi items A1..O5, complete cases (na.omit), n = 2436.
#   * bfi_pairwise: bfi items A1..O5 with their NAs, psych's default
#     cor(x, use = "pairwise"), n = nrow = 2800.
#   * hs: Holzinger & Swineford (1939) x1..x9, no missing values, n = 301.
#   * sq: service-quality items a01..a22, no missing values, n = 411.
#   * simulated: 500 x 12 items, 3 correlated factors, seed 20240501 (below).
# Rotation names: custval "geomin" = psych rotate = "geominQ" (oblique geomin).
suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(jsonlite)
})

out_dir <- file.path("tests", "golden", "dimensionality")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
save <- function(x, name) {
  write_json(x, file.path(out_dir, paste0(name, ".json")), digits = NA,
             auto_unbox = TRUE, pretty = FALSE, na = "null")
}
mat <- function(m) {
  m <- unclass(as.matrix(m))
  list(rows = rownames(m), cols = colnames(m),
       values = unname(lapply(seq_len(nrow(m)), function(i) unname(as.numeric(m[i, ])))))
}
vec <- function(v) as.list(setNames(as.numeric(v), names(v)))

# ----------------------------------------------------------------- data
bfi <- raw("bfi")
items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5), paste0("O", 1:5))
bfi_pw <- bfi[, items]
bfi_cc <- na.omit(bfi_pw)
hs <- raw("holzinger_swineford1939")[, paste0("x", 1:9)]
sq <- raw("service_quality_sq")[, sprintf("a%02d", 1:22)]

# SIMULATED data: 3 correlated factors, 4 items each, 5-point items.
set.seed(20240501)
n <- 500
lam <- matrix(0, 12, 3)
lam[1:4, 1] <- c(.8, .7, .6, .5)
lam[5:8, 2] <- c(.75, .65, .6, .55)
lam[9:12, 3] <- c(.7, .7, .6, .4)
lam[4, 2] <- .3
Phi <- matrix(c(1, .4, .3, .4, 1, .2, .3, .2, 1), 3)
f <- MASS::mvrnorm(n, rep(0, 3), Phi)
e <- matrix(rnorm(n * 12), n) %*% diag(sqrt(1 - diag(lam %*% Phi %*% t(lam))))
y <- f %*% t(lam) + e
sim <- as.data.frame(apply(y, 2, function(v) as.integer(cut(v, c(-Inf, -1.5, -.5, .5, 1.5, Inf)))))
names(sim) <- paste0("s", 1:12)
write.csv(sim, file.path(out_dir, "simulated.csv"), row.names = FALSE)

sets <- list(bfi_complete = list(x = bfi_cc, nf = 5),
             bfi_pairwise = list(x = bfi_pw, nf = 5),
             hs = list(x = hs, nf = 3),
             sq = list(x = sq, nf = 3),
             simulated = list(x = sim, nf = 3))

# ----------------------------------------------------------------- KMO, Bartlett, eigenvalues
basic <- list()
for (nm in names(sets)) {
  x <- sets[[nm]]$x
  k <- KMO(x)
  b <- suppressMessages(cortest.bartlett(x, n = nrow(x)))
  r <- cor(x, use = "pairwise")
  basic[[nm]] <- list(n = nrow(x), msa = k$MSA, msai = vec(k$MSAi),
                      chisq = b$chisq, df = b$df, p_value = b$p.value,
                      eigenvalues = as.numeric(eigen(r)$values),
                      map = as.numeric(vss(x, n = 8, plot = FALSE)$map))
}
save(basic, "basic")

# ----------------------------------------------------------------- EFA: every method x rotation
rotations <- c(none = "none", oblimin = "oblimin", geomin = "geominQ", promax = "promax",
               varimax = "varimax", quartimin = "quartimin")
efa <- list()
for (nm in names(sets)) {
  x <- sets[[nm]]$x
  for (fm in c("minres", "ml", "pa")) {
    for (ro in names(rotations)) {
      fit <- suppressWarnings(fa(x, nfactors = sets[[nm]]$nf, fm = fm, rotate = rotations[[ro]]))
      key <- paste(nm, fm, ro, sep = "/")
      efa[[key]] <- list(
        loadings = mat(fit$loadings),
        phi = if (is.null(fit$Phi)) NULL else mat(fit$Phi),
        structure = mat(fit$Structure),
        communality = vec(fit$communality),
        uniquenesses = vec(fit$uniquenesses),
        vaccounted = mat(fit$Vaccounted),
        values = as.numeric(fit$values),
        e_values = as.numeric(fit$e.values),
        rms = fit$rms, crms = fit$crms, chisq = fit$STATISTIC, dof = fit$dof,
        p_value = fit$PVAL, tli = fit$TLI, rmsea = as.numeric(fit$RMSEA[1:3]),
        bic = fit$BIC, objective = fit$objective, echisq = fit$chi, ebic = fit$EBIC,
        null_chisq = fit$null.chisq, fit = fit$fit, fit_off = fit$fit.off, n_obs = fit$n.obs)
    }
  }
  # one-factor solution (Harman's single-factor test)
  f1 <- fa(x, nfactors = 1, rotate = "none", fm = "minres")
  efa[[paste(nm, "minres", "one_factor", sep = "/")]] <- list(
    loadings = mat(f1$loadings), communality = vec(f1$communality),
    vaccounted = mat(f1$Vaccounted))
}
save(efa, "efa")

# ----------------------------------------------------------------- parallel analysis
pa_out <- list()
for (nm in c("bfi_complete", "bfi_pairwise", "hs", "sq", "simulated")) {
  set.seed(42)
  pa <- fa.parallel(sets[[nm]]$x, n.iter = 100, plot = FALSE)
  pa_out[[nm]] <- list(fa_values = as.numeric(pa$fa.values), pc_values = as.numeric(pa$pc.values),
                       nfact = pa$nfact, ncomp = pa$ncomp,
                       pc_sim = as.numeric(pa$pc.sim), fa_sim = as.numeric(pa$fa.sim),
                       pc_simr = as.numeric(pa$pc.simr), fa_simr = as.numeric(pa$fa.simr))
}
# polychoric parallel analysis (observed eigenvalues are deterministic)
set.seed(42)
pp <- suppressWarnings(fa.parallel(sim, n.iter = 20, cor = "poly", plot = FALSE))
pa_out[["simulated_poly"]] <- list(fa_values = as.numeric(pp$fa.values), pc_values = as.numeric(pp$pc.values),
                                   nfact = pp$nfact, ncomp = pp$ncomp)
save(pa_out, "parallel")

# ----------------------------------------------------------------- polychoric
poly <- list()
for (cc in c(0, 0.5)) {
  p1 <- polychoric(bfi_cc[, 1:10], correct = cc)
  p2 <- polychoric(sim, correct = cc)
  poly[[paste0("bfi_complete_c", cc)]] <- list(rho = mat(p1$rho), tau = mat(p1$tau))
  poly[[paste0("simulated_c", cc)]] <- list(rho = mat(p2$rho), tau = mat(p2$tau))
}
# unequal numbers of categories: psych switches to per-pair thresholds (global = FALSE)
# and its continuity correction for empty cells
sim_uneq <- sim
sim_uneq$s1 <- pmin(sim_uneq$s1, 4)
sim_uneq$s5 <- pmin(sim_uneq$s5, 3)
for (cc in c(0, 0.5)) {
  p4 <- suppressWarnings(polychoric(sim_uneq, correct = cc))
  poly[[paste0("simulated_unequal_c", cc)]] <- list(rho = mat(p4$rho), tau = mat(p4$tau))
}
p3 <- polychoric(bfi_pw[, 1:10])
poly[["bfi_pairwise_c0.5"]] <- list(rho = mat(p3$rho), tau = mat(p3$tau))
save(poly, "polychoric")
fp <- fa(sim, 3, cor = "poly")
save(list(loadings = mat(fp$loadings), phi = mat(fp$Phi), communality = vec(fp$communality)),
     "efa_polychoric")
cat("dimensionality golden values written to", out_dir, "\n")
