# Golden values for custval.validity.omega_hierarchical (bifactor CFA, omega hierarchical).
#
# Run from the repository root:  Rscript tests/r/bifactor_omega.R
# Writes tests/golden/validity/bifactor_omega.json (jsonlite, digits = NA).
#
# References: lavaan 0.6-14, semTools 0.5-6.
# Model: bifactor CFA of the 15 bfi items A1-A5, C1-C5, E1-E5 of custval/_data/bfi (rows complete on
# them; A1, C4, C5, E1, E2 reversed as 7 - x), g on all items, one specific factor per scale,
# orthogonal = TRUE, std.lv = TRUE, ML.  Omegas: semTools::compRelSEM(fit, return.total = TRUE)
# with obs.var = TRUE (default: observed total variance 1'S1 of the factor's items) and FALSE
# (model-implied 1'Sigma1).  For g this is omega hierarchical, for a specific factor omega_hs, and
# "total" is omega total.  ECV = sum(l_g^2) / (sum(l_g^2) + sum over specific factors of sum(l_s^2)),
# standardised loadings (Rodriguez, Reise & Haviland, 2016).
suppressPackageStartupMessages({ library(lavaan); library(semTools); library(jsonlite) })
bfi <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))
items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5))
x <- na.omit(bfi[, items])
for (v in c("A1", "C4", "C5", "E1", "E2")) x[[v]] <- 7 - x[[v]]
model <- paste0("g =~ ", paste(items, collapse = " + "), "\n",
                "sA =~ A1 + A2 + A3 + A4 + A5\n", "sC =~ C1 + C2 + C3 + C4 + C5\n",
                "sE =~ E1 + E2 + E3 + E4 + E5\n")
fit <- cfa(model, data = x, orthogonal = TRUE, std.lv = TRUE)
std <- standardizedSolution(fit)
ld <- std[std$op == "=~", ]
ecv <- sum(ld$est.std[ld$lhs == "g"]^2) / sum(ld$est.std^2)
out <- list(
  model = model, n = nrow(x), chisq = fitMeasures(fit, "chisq"),
  omega_observed = as.list(compRelSEM(fit, return.total = TRUE)),
  omega_implied = as.list(compRelSEM(fit, return.total = TRUE, obs.var = FALSE)),
  ecv = ecv
)
write_json(out, file.path("tests", "golden", "validity", "bifactor_omega.json"), digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
print(out)
