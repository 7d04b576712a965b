# Golden values for custval.EFA on Heywood and near-Heywood minres solutions.
#
# Run from the repository root:  Rscript tests/r/efa_privacy.R
# Writes tests/golden/efa/heywood.json (jsonlite, digits = NA = full precision).
#
# References: psych 2.2.9, GPArotation 2022.10-2 (Debian r-cran-* packages).
#
# Cases:
#   * privacy_4f: tests/golden/efa/privacy_tracker.csv (1090 x 11, no missing values; origin and
#     licence in tests/golden/efa/README.md), psych::fa(x, nfactors = 4, fm = "minres",
#     rotate = "oblimin") with psych's default use = "pairwise" (custval's default
#     nan_policy = "pairwise"; the file has no missing values, so pairwise = complete cases).
#     intent1 ends at psych's lower bound for a uniqueness (.005), communality .996.
#   * population_1f: the 4 x 4 population correlation matrix of tests/test_efa.py's Heywood test
#     (item a needs a communality of 1.28), psych::fa(R, nfactors = 1, n.obs = 500, fm = "minres").
# For each case the script also re-runs psych's optimiser call (psych:::fac, fm = "minres") to
# record optim's convergence code and message, and evaluates psych's objective fit.residuals
# (the off-diagonal residual sum of squares, "rss") at psych's solution.
suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
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

# psych:::fac's minres objective and gradient (psych 2.2.9, fm = "minres")
fit_residuals <- function(Psi, S, nf) {
  diag(S) <- 1 - Psi
  e <- eigen(S)
  e$values[e$values < .Machine$double.eps] <- 100 * .Machine$double.eps
  L <- e$vectors[, 1:nf, drop = FALSE] %*% diag(sqrt(e$values[1:nf]), nf)
  res <- S - L %*% t(L)
  sum(res[lower.tri(res)]^2)
}
fagr_minres <- function(Psi, S, nf) {
  E <- eigen(S - diag(Psi), symmetric = TRUE)
  L <- E$vectors[, 1:nf, drop = FALSE] %*% diag(sqrt(pmax(E$values[1:nf], 0)), nf)
  diag(L %*% t(L) + diag(Psi) - S)
}

one_case <- function(x, nf, n.obs = NA) {
  f <- suppressWarnings(fa(x, nfactors = nf, n.obs = n.obs, fm = "minres", rotate = "oblimin"))
  S <- if (isSymmetric(as.matrix(x)) && nrow(x) == ncol(x)) as.matrix(x) else cor(x, use = "pairwise")
  psi <- 1 - f$communalities
  start <- diag(S) - smc(S)
  opt <- optim(start, fit_residuals, fagr_minres, method = "L-BFGS-B", lower = 0.005,
               upper = max(smc(S), 1), control = list(fnscale = 1, parscale = rep(0.01, length(start))),
               nf = nf, S = S)
  stopifnot(max(abs(opt$par - psi)) < 1e-12)  # psych reports 1 - (1 - psi)
  list(
    n_obs = f$n.obs, nfactors = nf,
    psi = vec(psi),
    rss = fit_residuals(psi, S, nf),
    optim_convergence = opt$convergence, optim_message = opt$message,
    optim_counts = as.numeric(opt$counts),
    objective = f$objective, chisq = f$STATISTIC, dof = f$dof, rms = f$rms,
    loadings = mat(f$loadings), phi = if (is.null(f$Phi)) NULL else mat(f$Phi),
    communality = vec(f$communality), uniquenesses = vec(f$uniquenesses),
    e_values = as.numeric(f$e.values), values = as.numeric(f$values)
  )
}

priv <- read.csv(file.path(out_dir, "privacy_tracker.csv"))
R4 <- matrix(c(1, .8, .8, .3, .8, 1, .5, .2, .8, .5, 1, .2, .3, .2, .2, 1), 4,
             dimnames = list(letters[1:4], letters[1:4]))
out <- list(
  privacy_4f = one_case(priv, 4),
  population_1f = one_case(R4, 1, n.obs = 500)
)
write_json(out, file.path(out_dir, "heywood.json"), digits = NA, auto_unbox = TRUE,
           pretty = FALSE, na = "null")
