# Golden values for custval.cfa.CFA with a mix of ordered and continuous items (lavaan 0.6-14,
# cfa(..., ordered = <some items>), WLSMV / DWLS, delta and theta parameterizations).
#
# Run from the repository root:  Rscript tests/r/cfa_ordinal_mixed.R [name ...]
# Writes tests/golden/cfa_ordinal_mixed/*.json (jsonlite, digits = NA) and the simulated
# fixture tests/golden/cfa_ordinal_mixed/sim_mixed.csv.
#
# lavaan's sample statistics with ov.types numeric and ordered (lav_samplestats_step1 / step2,
# muthen1984): per continuous item its mean and ML variance, per ordered item its thresholds;
# polychoric, polyserial (lav_bvmix_cor_twostep_fit) and Pearson correlations; the fitted
# statistics are (thresholds and -means, variances, covariances) with Gamma (NACOV) from the
# case-wise scores.  The continuous items' intercepts and residual variances are free.  Each
# case is fitted with nlminb and restarted from its solution with lavaan's Gauss-Newton
# optimizer (with equality constraints: BFGS); the refit is kept when its gradient (projected
# onto the constraints) is smaller.
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

only <- commandArgs(trailingOnly = TRUE)
want <- function(name) length(only) == 0L || name %in% only
out_dir <- file.path("tests", "golden", "cfa_ordinal_mixed")
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

# the gradient projected onto the constraint set (group.equal makes lavaan's '==' rows)
pgrad <- function(fit) {
  g <- lavInspect(fit, "gradient")
  J <- fit@Model@con.jac
  if (nrow(J) > 0) g <- g - drop(t(J) %*% solve(J %*% t(J), J %*% g))
  max(abs(g))
}

case <- function(name, model, data, ...) {
  if (!want(name)) return(invisible(NULL))
  args <- list(...)
  fit <- do.call("cfa", c(list(model = model, data = data), args))
  optimizer <- "nlminb (default)"
  grad <- pgrad(fit)
  fit_gn <- try(suppressWarnings(do.call("cfa", c(list(model = model, data = data,
    start = fit, optim.method = "GN", optim.gn.tol.x = 1e-12), args))), silent = TRUE)
  if (!inherits(fit_gn, "try-error") && isTRUE(lavInspect(fit_gn, "converged"))) {
    g2 <- pgrad(fit_gn)
    if (g2 < grad) { fit <- fit_gn; grad <- g2; optimizer <- "GN (from the nlminb solution)" }
  }
  for (k in 1:5) {  # GN does not take equality constraints: BFGS restarts from the solution
    if (grad < 1e-9) break
    fit_b <- try(suppressWarnings(do.call("cfa", c(list(model = model, data = data, start = fit,
      optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 5000)), args))), silent = TRUE)
    if (inherits(fit_b, "try-error")) break
    g2 <- pgrad(fit_b)
    if (g2 < grad) { fit <- fit_b; grad <- g2; optimizer <- "BFGS (restarted from nlminb)" } else break
  }
  pe <- parameterEstimates(fit, standardized = TRUE)
  fm <- fitMeasures(fit)
  ss <- lavInspect(fit, "sampstat")
  if (!is.null(ss$cov)) ss <- list(ss)
  gm <- lavInspect(fit, "gamma")
  if (is.matrix(gm)) gm <- list(gm)
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    call = deparse(sys.call()),
    args = args,
    model = model,
    optimizer = optimizer, max_abs_gradient = grad,
    ntotal = lavInspect(fit, "ntotal"),
    nobs = if (length(lavInspect(fit, "group.label"))) {
      as.list(setNames(lavInspect(fit, "nobs"), lavInspect(fit, "group.label")))
    } else list(),
    params = cols(pe),
    fit = as.list(unclass(fm)),
    sampstat = lapply(ss, function(s) list(cov = mat(s$cov), mean = as.list(unclass(s$mean)),
                                           th = as.list(unclass(s$th)))),
    # the correlations before rescaling (polychoric, polyserial, Pearson)
    cor = lapply(ss, function(s) mat(cov2cor(s$cov))),
    gamma = lapply(gm, mat),
    vcov = mat(lavInspect(fit, "vcov"))
  )
  save(out, name)
  cat(name, ": chisq", fm[["chisq"]], " df", fm[["df"]], " optimizer", optimizer, " gradient", grad, "\n")
  invisible(fit)
}

bfi <- raw("bfi")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
bfi_ac <- bfi[complete.cases(bfi[, ac]), ]
m_ac <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
ord_bfi <- c("A1", "A2", "A3", "C1", "C2")

# 1. bfi: five items as ordered categories, five as numbers (complete cases)
case("bfi_mixed", m_ac, bfi_ac, ordered = ord_bfi, estimator = "WLSMV")
# 2. the same, theta parameterization, and DWLS
case("bfi_mixed_theta", m_ac, bfi_ac, ordered = ord_bfi, estimator = "WLSMV", parameterization = "theta")
case("bfi_mixed_dwls", m_ac, bfi_ac, ordered = ord_bfi, estimator = "DWLS")

# 3. simulated: 3 continuous items (a 0-100 rating, two 0-10 scores) and 3 ordered items of
#    4 and 5 categories, two correlated factors
if (want("sim_mixed") || !file.exists(file.path(out_dir, "sim_mixed.csv"))) {
  set.seed(20261208)
  n <- 500
  eta <- MASS::mvrnorm(n, c(0, 0), matrix(c(1, .45, .45, 1), 2))
  ys <- function(l, f) l * eta[, f] + sqrt(1 - l^2) * rnorm(n)
  sim <- data.frame(id = seq_len(n))
  sim$rating <- round(pmin(100, pmax(0, 70 + 15 * ys(.75, 1))), 1)
  sim$score1 <- round(6 + 1.8 * ys(.7, 1), 2)
  sim$score2 <- round(5 + 2.2 * ys(.65, 2), 2)
  sim$o1 <- findInterval(ys(.7, 1), c(-1.6, -0.5, 0.6)) + 1L          # 4 categories
  sim$o2 <- findInterval(ys(.75, 2), c(-2.0, -1.1, -0.2, 0.9)) + 1L    # 5 categories
  sim$o3 <- findInterval(ys(.6, 2), c(-1.4, -0.3, 0.5, 1.5)) + 1L      # 5 categories
  write.csv(sim, file.path(out_dir, "sim_mixed.csv"), row.names = FALSE)
}
sim <- read.csv(file.path(out_dir, "sim_mixed.csv"))
m_sim <- "F1 =~ rating + score1 + o1\nF2 =~ o2 + score2 + o3"
case("sim_mixed", m_sim, sim, ordered = c("o1", "o2", "o3"), estimator = "WLSMV")
case("sim_mixed_theta", m_sim, sim, ordered = c("o1", "o2", "o3"), estimator = "WLSMV",
     parameterization = "theta")

# 4. two groups (bfi gender): configural, and thresholds + loadings + intercepts equal (lavaan
#    then frees the ordered items' scale factors and the latent means in the second group; the
#    continuous items' intercepts are equal across groups)
bfi_acg <- bfi[complete.cases(bfi[, c(ac, "gender")]), ]
case("bfi_mixed_groups", m_ac, bfi_acg, ordered = ord_bfi, estimator = "WLSMV", group = "gender")
case("bfi_mixed_groups_eq", m_ac, bfi_acg, ordered = ord_bfi, estimator = "WLSMV", group = "gender",
     group.equal = c("thresholds", "loadings", "intercepts"))
case("bfi_mixed_groups_theta", m_ac, bfi_acg, ordered = ord_bfi, estimator = "WLSMV", group = "gender",
     parameterization = "theta", group.equal = c("thresholds", "loadings", "intercepts"))

# 5. the continuous item's intercept written out (rating ~ 1: lavaan lists it among the user rows)
case("sim_mixed_int", paste(m_sim, "rating ~ 1", sep = "\n"), sim, ordered = c("o1", "o2", "o3"),
     estimator = "WLSMV")

# 6. pairwise missing answers: every bfi row with an answer (the file's own missing answers);
#    continuous items' means and variances from their answers, Pearson correlations replaced
#    by two-step ML ones over the rows that answered both (lav_bvreg_cor_twostep_fit)
bfi_any <- bfi[rowSums(!is.na(bfi[, ac])) > 0, ]
case("bfi_mixed_pairwise", m_ac, bfi_any, ordered = ord_bfi, estimator = "WLSMV", missing = "pairwise")
bfi_gany <- bfi[!is.na(bfi$gender) & rowSums(!is.na(bfi[, ac])) > 0, ]
case("bfi_mixed_groups_pairwise", m_ac, bfi_gany, ordered = ord_bfi, estimator = "WLSMV", group = "gender",
     missing = "pairwise", group.equal = c("thresholds", "loadings", "intercepts"))

# 7. ULSMV with std.lv = TRUE
case("sim_mixed_ulsmv_stdlv", m_sim, sim, ordered = c("o1", "o2", "o3"), estimator = "ULSMV", std.lv = TRUE)
