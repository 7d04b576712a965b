# Golden values for custval.cfa.CFA with ordered items (lavaan WLSMV / DWLS / ULSMV).
#
# Run from the repository root:  Rscript tests/r/cfa_ordinal.R [name ...]
# Writes tests/golden/cfa_ordinal/*.json (jsonlite, digits = NA = full precision) and
# the simulated fixture tests/golden/cfa_ordinal/sim_skewed.csv.
#
# Reference: lavaan 0.6-14, semTools 0.5-6 (compRelSEM of each fit).  cfa(..., ordered = TRUE, estimator = "WLSMV") uses lavaan's
# defaults: two-stage thresholds and pairwise-ML polychoric correlations (zero.add =
# c(0.5, 0), zero.keep.margins = TRUE), NACOV from muthen1984, DWLS estimates, se =
# "robust.sem" (expected information), test = "scaled.shifted", parameterization =
# "delta".  Each case is fitted with the default optimizer (nlminb) and refitted from
# that solution with lavaan's Gauss-Newton optimizer (optim.method = "GN"); the refit
# is kept when its gradient is smaller (max_abs_gradient and optimizer are saved).
suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

only <- commandArgs(trailingOnly = TRUE)
want <- function(name) length(only) == 0L || name %in% only
out_dir <- file.path("tests", "golden", "cfa_ordinal")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
save <- function(x, name) {
  write_json(x, file.path(out_dir, paste0(name, ".json")), digits = NA,
             auto_unbox = TRUE, pretty = FALSE, na = "null")
}
cols <- function(df) {
  df <- as.data.frame(df)
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unclass(v))
  lapply(out, function(v) { attributes(v) <- NULL; v })
}
mat <- function(m) {
  m <- unclass(m)
  list(names = rownames(m), values = unname(lapply(seq_len(nrow(m)), function(i) unname(m[i, ]))))
}

case <- function(name, model, data, ..., full = FALSE) {
  if (!want(name)) return(invisible(NULL))
  args <- list(...)
  fit <- do.call("cfa", c(list(model = model, data = data), args))
  optimizer <- "nlminb (default)"
  grad <- max(abs(lavInspect(fit, "gradient")))
  fit_gn <- try(suppressWarnings(do.call("cfa", c(list(model = model, data = data,
    start = fit, optim.method = "GN", optim.gn.tol.x = 1e-12), args))), silent = TRUE)
  if (!inherits(fit_gn, "try-error") && isTRUE(lavInspect(fit_gn, "converged"))) {
    g2 <- max(abs(lavInspect(fit_gn, "gradient")))
    if (g2 < grad) { fit <- fit_gn; grad <- g2; optimizer <- "GN (from the nlminb solution)" }
  }
  if (grad > 1e-6) {  # GN does not take equality constraints: BFGS restarts from the solution
    for (k in 1:3) {
      fit_b <- try(suppressWarnings(do.call("cfa", c(list(model = model, data = data, start = fit,
        optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 5000)), args))), silent = TRUE)
      if (inherits(fit_b, "try-error")) break
      g2 <- max(abs(lavInspect(fit_b, "gradient")))
      if (g2 < grad) { fit <- fit_b; grad <- g2; optimizer <- "BFGS (restarted from nlminb)" } else break
    }
  }
  pe <- parameterEstimates(fit, standardized = TRUE)
  fm <- fitMeasures(fit)
  ss <- lavInspect(fit, "sampstat")
  if (!is.null(ss$cov)) ss <- list(ss)
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    call = deparse(sys.call()),
    args = args,
    optimizer = optimizer, max_abs_gradient = grad,
    ntotal = lavInspect(fit, "ntotal"),
    params = cols(pe),
    fit = as.list(unclass(fm)),
    sampstat = lapply(ss, function(s) list(cor = mat(s$cov), th = as.list(unclass(s$th)))),
    # semTools 0.5-6 reliability of the ordinal fit
    semtools_version = as.character(packageVersion("semTools")),
    compRelSEM = list(
      ordinal = as.list(compRelSEM(fit)),
      ordinal_implied = as.list(compRelSEM(fit, obs.var = FALSE)),
      latent_response = as.list(compRelSEM(fit, ord.scale = FALSE)),
      latent_response_implied = as.list(compRelSEM(fit, ord.scale = FALSE, obs.var = FALSE)))
  )
  # Gamma (NACOV) and the vcov of the estimates for the cases marked `full`
  if (full) {
    out$vcov <- mat(lavInspect(fit, "vcov"))
    gm <- lavInspect(fit, "gamma")
    if (is.matrix(gm)) gm <- list(gm)
    out$gamma <- lapply(gm, mat)
  }
  save(out, name)
  cat(name, ": chisq", fm[["chisq"]], " optimizer", optimizer, " gradient", grad, "\n")
  invisible(fit)
}

bfi <- raw("bfi")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
bfi_ac <- bfi[complete.cases(bfi[, ac]), ]
m_ac <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"

# 1. bfi agreeableness + conscientiousness, six categories, complete cases
case("bfi_wlsmv", m_ac, bfi_ac, ordered = TRUE, estimator = "WLSMV", full = TRUE)
# 2. the same with a residual correlation and std.lv
case("bfi_rescov_stdlv", paste(m_ac, "A1 ~~ A2", sep = "\n"), bfi_ac, ordered = TRUE,
     estimator = "WLSMV", std.lv = TRUE)
# 3. DWLS and ULSMV
case("bfi_dwls", m_ac, bfi_ac, ordered = TRUE, estimator = "DWLS")
case("bfi_ulsmv", m_ac, bfi_ac, ordered = TRUE, estimator = "ULSMV")

# 4. simulated: 3 factors x 4 items, skewed 4-category items (ceiling), one binary item
if (want("sim_skewed") || !file.exists(file.path(out_dir, "sim_skewed.csv"))) {
  set.seed(20261207)
  n <- 600
  phi <- matrix(c(1, .5, .4, .5, 1, .3, .4, .3, 1), 3)
  eta <- MASS::mvrnorm(n, rep(0, 3), phi)
  lam <- c(.8, .7, .6, .75, .7, .65, .8, .55, .6, .7, .75, .5)
  fac <- rep(1:3, each = 4)
  sim <- data.frame(id = seq_len(n))
  cuts <- list(c(-2.2, -1.3, -0.4), c(-1.8, -0.9, 0.1), c(-2.5, -1.6, -0.6), c(-0.5))
  for (j in 1:12) {
    ystar <- lam[j] * eta[, fac[j]] + sqrt(1 - lam[j]^2) * rnorm(n)
    cu <- if (j == 12) cuts[[4]] else cuts[[(j - 1) %% 3 + 1]]
    sim[[paste0("q", j)]] <- findInterval(ystar, cu) + 1L
  }
  write.csv(sim, file.path(out_dir, "sim_skewed.csv"), row.names = FALSE)
}
sim <- read.csv(file.path(out_dir, "sim_skewed.csv"))
m_sim <- "F1 =~ q1 + q2 + q3 + q4\nF2 =~ q5 + q6 + q7 + q8\nF3 =~ q9 + q10 + q11 + q12"
case("sim_skewed", m_sim, sim, ordered = TRUE, estimator = "WLSMV", full = TRUE)

# 5. corp_rep: seven-point likeability / competence / loyalty items (-99 = missing code),
#    complete cases
cr <- raw("corp_rep")
cr_items <- c(paste0("like_", 1:3), paste0("comp_", 1:3), paste0("cusl_", 1:3))
cr[cr == -99] <- NA
cr <- cr[complete.cases(cr[, cr_items]), ]
m_cr <- "LIKE =~ like_1 + like_2 + like_3\nCOMP =~ comp_1 + comp_2 + comp_3\nCUSL =~ cusl_1 + cusl_2 + cusl_3"
case("corp_rep_wlsmv", m_cr, cr, ordered = TRUE, estimator = "WLSMV")

# 6. pairwise missing: every bfi row with an answer (the file's own missing answers)
bfi_any <- bfi[rowSums(!is.na(bfi[, ac])) > 0, ]
case("bfi_pairwise", m_ac, bfi_any, ordered = TRUE, estimator = "WLSMV", missing = "pairwise")

# 7. labels and defined parameters (:=)
m_def <- paste("A =~ A1 + a2*A2 + a3*A3 + A4 + A5", "C =~ C1 + c2*C2 + C3 + C4 + C5",
               "d := a2 - a3", "q := a2 * c2", sep = "\n")
case("bfi_defined", m_def, bfi_ac, ordered = TRUE, estimator = "WLSMV")

# 8. theta parameterization (residual variances of the latent responses fixed at 1)
case("sim_theta", m_sim, sim, ordered = TRUE, estimator = "WLSMV", parameterization = "theta")
case("bfi_theta_rescov", paste(m_ac, "A1 ~~ A2", sep = "\n"), bfi_ac, ordered = TRUE,
     estimator = "WLSMV", parameterization = "theta")

# 9. two groups (bfi gender): configural, and thresholds + loadings equal (lavaan frees the
#    scale factors and latent means of the second group)
bfi_acg <- bfi[complete.cases(bfi[, c(ac, "gender")]), ]
case("bfi_groups", m_ac, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender")
case("bfi_groups_thload", m_ac, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender",
     group.equal = c("thresholds", "loadings"))

# 10. a linear equality constraint among loadings (==)
m_eq <- paste("A =~ A1 + a2*A2 + a3*A3 + A4 + A5", "C =~ C1 + C2 + c3*C3 + C4 + C5",
              "a2 + a3 == -3.6", "c3 == 1", sep = "\n")
case("bfi_constraint", m_eq, bfi_ac, ordered = TRUE, estimator = "WLSMV")

# 11. two groups, theta parameterization (residual variances free in the second group with
#     equal thresholds)
case("bfi_groups_theta", m_ac, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender",
     parameterization = "theta", group.equal = c("thresholds", "loadings"))

# 12. two groups with pairwise missing answers (every row with a gender and an answer)
bfi_gany <- bfi[!is.na(bfi$gender) & rowSums(!is.na(bfi[, ac])) > 0, ]
case("bfi_groups_pairwise", m_ac, bfi_gany, ordered = TRUE, estimator = "WLSMV", group = "gender",
     missing = "pairwise", group.equal = c("thresholds", "loadings"))

# 13. mobi (seminr's ECSI mobile-phone survey): ten-point image, satisfaction and loyalty items
#     (1-10; 7 to 10 categories observed, sparse at the bottom of the scale), n = 250
mobi <- raw("mobi")
m_mobi <- paste("IMAG =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5", "CUSA =~ CUSA1 + CUSA2 + CUSA3",
                "CUSL =~ CUSL1 + CUSL2 + CUSL3", sep = "\n")
case("mobi_10cat", m_mobi, mobi, ordered = TRUE, estimator = "WLSMV", full = TRUE)
