# Golden values for custval.invariance.measurement_invariance with ordered items (WLSMV):
# the Wu & Estabrook (2016) ladder configural -> thresholds -> + loadings (metric) ->
# + intercepts (scalar), as semTools::measEq.syntax(ID.cat = "Wu.Estabrook.2016",
# ID.fac = "std.lv") generates it, each level fitted by lavaan (WLSMV, delta unless
# named), and the scaled-shifted difference tests of lavaan::lavTestLRT (its default for
# WLSMV: method = "satorra.2000", scaled.shifted = TRUE).
#
# Run from the repository root:  Rscript tests/r/invariance_ordinal.R [name ...]
# Writes tests/golden/invariance_ordinal/*.json and the simulated fixture
# tests/golden/invariance_ordinal/sim_thresholds.csv (two groups, item q2's thresholds
# shifted by +0.6 in group "b": the known truth is threshold non-invariance of q2 only).
# Reference: lavaan 0.6-14, semTools 0.5-6.
suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

only <- commandArgs(trailingOnly = TRUE)
want <- function(name) length(only) == 0L || name %in% only
out_dir <- file.path("tests", "golden", "invariance_ordinal")
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

LEVELS <- list(configural = "", thresholds = "thresholds",
               metric = c("thresholds", "loadings"),
               scalar = c("thresholds", "loadings", "intercepts"))

ladder <- function(name, model, data, items, group, partial = "", parameterization = "delta") {
  if (!want(name)) return(invisible(NULL))
  fits <- list()
  syn <- list()
  for (lv in names(LEVELS)) {
    s <- measEq.syntax(model, data = data, ordered = items, parameterization = parameterization,
                       ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = group,
                       group.equal = LEVELS[[lv]], group.partial = partial)
    syn[[lv]] <- as.character(s)
    fits[[lv]] <- cfa(as.character(s), data = data, ordered = items, group = group,
                      estimator = "WLSMV", parameterization = parameterization)
  }
  lrt <- do.call(lavTestLRT, unname(fits))
  keep <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
            "chisq.scaling.factor", "cfi", "tli", "rmsea", "cfi.scaled", "tli.scaled",
            "rmsea.scaled", "srmr")
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    semtools_version = as.character(packageVersion("semTools")),
    partial = partial, parameterization = parameterization,
    group_labels = lavInspect(fits[[1]], "group.label"),
    levels = lapply(names(fits), function(lv) list(
      level = lv, syntax = syn[[lv]],
      converged = lavInspect(fits[[lv]], "converged"),
      fit = as.list(unclass(fitMeasures(fits[[lv]], keep))),
      params = cols(parameterEstimates(fits[[lv]])))),
    lrt = list(chisq = unname(lrt[["Chisq"]]), df = unname(lrt[["Df"]]),
               chisq_diff = unname(lrt[["Chisq diff"]]), df_diff = unname(lrt[["Df diff"]]),
               pvalue = unname(lrt[["Pr(>Chisq)"]]))
  )
  save(out, name)
  cat(name, "\n"); print(lrt)
  invisible(fits)
}

bfi <- raw("bfi")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
bfi_acg <- bfi[complete.cases(bfi[, c(ac, "gender")]), ]
m_ac <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"

# 1. bfi agreeableness + conscientiousness (six categories) by gender, complete cases
ladder("bfi_gender", m_ac, bfi_acg, ac, "gender")
# 2. partial threshold invariance: one threshold of A1 free (its intercept and scale stay free)
ladder("bfi_gender_partial", m_ac, bfi_acg, ac, "gender", partial = "A1|t2")
# 2b. partial metric and scalar invariance: one loading and one intercept free
ladder("bfi_gender_partial_load_int", m_ac, bfi_acg, ac, "gender", partial = c("A =~ A2", "C3 ~ 1"))
# 3. theta parameterization
ladder("bfi_gender_theta", m_ac, bfi_acg, ac, "gender", parameterization = "theta")

# 4. simulated: two groups, 2 factors x 4 five-category items, q2's thresholds shifted
if (want("sim_thresholds") || !file.exists(file.path(out_dir, "sim_thresholds.csv"))) {
  set.seed(20261207)
  lam <- c(.8, .7, .6, .75, .7, .65, .8, .55)
  fac <- rep(1:2, each = 4)
  cuts <- c(-1.6, -0.7, 0.2, 1.1)
  make <- function(n, grp, mean, var, shift) {
    phi <- matrix(c(var, .4 * var, .4 * var, var), 2)
    eta <- MASS::mvrnorm(n, rep(mean, 2), phi)
    d <- data.frame(group = rep(grp, n))
    for (j in 1:8) {
      ystar <- lam[j] * eta[, fac[j]] + sqrt(1 - lam[j]^2) * rnorm(n)
      cu <- if (j == 2) cuts + shift else cuts
      d[[paste0("q", j)]] <- findInterval(ystar, cu) + 1L
    }
    d
  }
  sim <- rbind(make(700, "a", 0, 1, 0), make(600, "b", 0.3, 1.2, 0.6))
  sim <- cbind(id = seq_len(nrow(sim)), sim)
  write.csv(sim, file.path(out_dir, "sim_thresholds.csv"), row.names = FALSE)
}
sim <- read.csv(file.path(out_dir, "sim_thresholds.csv"))
q <- paste0("q", 1:8)
m_sim <- "F1 =~ q1 + q2 + q3 + q4\nF2 =~ q5 + q6 + q7 + q8"
ladder("sim_thresholds", m_sim, sim, q, "group")
# 5. the same with q2's thresholds free (partial threshold invariance: its intercept and
#    scale factor are fixed in both groups, as measEq.syntax does)
ladder("sim_thresholds_partial", m_sim, sim, q, "group", partial = paste0("q2|t", 1:4))

# 6. ranking the scalar constraints of the simulated set: each intercept released alone,
#    compared with the scalar model by lavTestLRT (q2, the shifted item, should lead)
if (want("sim_rank_scalar")) {
  fit_level <- function(partial) {
    s <- measEq.syntax(m_sim, data = sim, ordered = q, parameterization = "delta", ID.fac = "std.lv",
                       ID.cat = "Wu.Estabrook.2016", group = "group",
                       group.equal = LEVELS$scalar, group.partial = partial)
    cfa(as.character(s), data = sim, ordered = q, group = "group", estimator = "WLSMV")
  }
  base <- fit_level("")
  out <- list()
  for (v in q) {
    lrt <- lavTestLRT(fit_level(paste(v, "~ 1")), base)
    out[[paste(v, "~ 1")]] <- list(chisq_diff = lrt[["Chisq diff"]][2], df_diff = lrt[["Df diff"]][2],
                                   pvalue = lrt[["Pr(>Chisq)"]][2])
  }
  save(list(lavaan_version = as.character(packageVersion("lavaan")), candidates = out), "sim_rank_scalar")
  str(out)
}
