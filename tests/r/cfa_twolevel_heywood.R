# Golden values for the two-level CFA's srmr_between when the model-implied
# between matrix is not positive definite (a Heywood case at level 2).
#
# Run from the repository root:  Rscript tests/r/cfa_twolevel_heywood.R
# Writes tests/golden/cfa_twolevel/bank_branches.json (jsonlite, digits = NA).
#
# Data: custval's shipped bank_satisfaction (250 customers, 0-10 items) with
# branch ids assigned at random (uneven branch sizes 2-14, string ids, written
# into the JSON), so the branches have little true between variance: lavaan's
# between solution has a negative residual variance and the implied between
# matrix a negative eigenvalue.  lavaan 0.6-14's lav_fit_srmr_twolevel passes
# that matrix through lav_matrix_symmetric_force_pd (eigenvalues below 1e-6
# times the largest raised to it) before cov2cor, so srmr_between is finite.
# Written: lavaan's fit measures, its H1 (EM) and implied level matrices, and the
# fully maximised H1 (lavaan's own two-level loglik maximised by BFGS from the EM
# solution, as tests/r/cfa_twolevel.R), which is what custval uses.
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "cfa_twolevel")
d <- read.csv(file.path("custval", "_data", "bank_satisfaction", "bank_satisfaction.csv"))
set.seed(5)
sizes <- sample(2:14, 60, replace = TRUE)
sizes <- sizes[cumsum(sizes) < nrow(d)]
sizes[length(sizes)] <- sizes[length(sizes)] + nrow(d) - sum(sizes)  # the last branch takes the rest
ids <- rep(sprintf("BR-%03d", sample(100:999, length(sizes))), sizes)
d$branch <- sample(ids)
stopifnot(!anyNA(d$branch), min(table(d$branch)) >= 2)
model <- "
level: 1
  SATw =~ sat1 + sat2 + sat3 + sat4
level: 2
  SATb =~ sat1 + sat2 + sat3 + sat4
"
fit0 <- cfa(model, data = d, cluster = "branch")
fit <- suppressWarnings(cfa(model, data = d, cluster = "branch", start = fit0, optim.method = "BFGS",
                            control = list(reltol = 1e-16, maxit = 10000L)))
fit@Options$start <- "default"
stopifnot(lavInspect(fit, "converged"))
fm <- fitMeasures(fit)
imp <- lavaan:::lav_model_implied_cond2uncond(fit@implied)
h1 <- lavInspect(fit, "h1")
# the fully maximised H1 (as tests/r/cfa_twolevel.R)
YLp <- fit@SampleStats@YLp[[1]]; Lp <- fit@Data@Lp[[1]]
p <- ncol(h1$within$cov); lo <- lower.tri(diag(p), diag = TRUE); k <- sum(lo)
unpack <- function(t) {
  lw <- matrix(0, p, p); lb <- matrix(0, p, p); lw[lo] <- t[1:k]; lb[lo] <- t[k + 1:k]
  list(sw = tcrossprod(lw), sb = tcrossprod(lb), mu = t[2 * k + 1:p])
}
nll <- function(t) {
  u <- unpack(t)
  v <- lavaan:::lav_mvnorm_cluster_loglik_samplestats_2l(YLp = YLp, Lp = Lp, Mu.W = rep(0, p),
    Sigma.W = u$sw, Mu.B = u$mu, Sigma.B = u$sb, log2pi = TRUE, minus.two = FALSE)
  if (!is.finite(v)) 1e10 else -v
}
t0 <- c(t(chol(h1$within$cov))[lo], t(chol(h1$branch$cov))[lo], h1$branch$mean)
for (r in 1:3) {
  op <- optim(t0, nll, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000L, ndeps = rep(1e-5, length(t0))))
  t0 <- op$par
}
full <- unpack(op$par)
# lavaan's srmr_between formula on the fully maximised H1 (custval's H1)
force_pd <- lavaan:::lav_matrix_symmetric_force_pd
srmr_b_full <- sqrt(mean(lav_matrix_vech(cov2cor(full$sb) - cov2cor(force_pd(imp$cov[[2]])))^2))
res <- list(
  model = model,
  lavaan_version = as.character(packageVersion("lavaan")),
  branch = d$branch,
  nobs = lavInspect(fit, "nobs"),
  pe = lapply(as.list(parameterEstimates(fit)[, c("lhs", "op", "rhs", "level", "est")]), function(v) { attributes(v) <- NULL; v }),
  fit = as.list(setNames(as.numeric(fm[c("chisq", "df", "logl", "srmr", "srmr_within", "srmr_between")]),
                         c("chisq", "df", "logl", "srmr", "srmr_within", "srmr_between"))),
  implied_between = unname(imp$cov[[2]]),
  implied_between_eigenvalues = eigen(imp$cov[[2]], symmetric = TRUE)$values,
  h1_em_between = unname(h1$branch$cov),
  h1_full_between = unname(full$sb),
  srmr_between_full_h1 = srmr_b_full
)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, "bank_branches.json"))
cat("srmr_between", fm[["srmr_between"]], " on the full H1", srmr_b_full,
    " smallest eigenvalue", min(res$implied_between_eigenvalues), "\n")
