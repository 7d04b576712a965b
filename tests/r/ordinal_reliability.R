# Golden values for ordinal alpha and omega (cronbach_alpha / omega with cor = "polychoric";
# tests/test_ordinal_reliability.py).  Run from the repository root:
#   Rscript tests/r/ordinal_reliability.R
# Data: the shipped bfi (custval/_data/bfi/bfi.csv), items keyed by hand (7 - x for A1, C4, C5).
# Ordinal alpha (Zumbo, Gadermann & Zeisser, 2007) = psych::alpha(psych::polychoric(x)$rho);
# ordinal omega = psych::omega(x, poly = TRUE).  Writes tests/golden/reliability/ordinal.json.
suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(jsonlite)
})
bfi <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))
key <- function(d) { for (it in intersect(c("A1", "C4", "C5"), names(d))) d[[it]] <- 7 - d[[it]]; d }
sets <- list(A = paste0("A", 1:5), N = paste0("N", 1:5), AC = c(paste0("A", 1:5), paste0("C", 1:5)))
out <- list(versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            GPArotation = as.character(packageVersion("GPArotation"))))
for (nm in names(sets)) {
  x <- key(bfi[sets[[nm]]])
  for (pol in c("listwise", "pairwise")) {
    xx <- if (pol == "listwise") na.omit(x) else x
    rho <- psych::polychoric(xx)$rho
    a <- psych::alpha(rho, warnings = FALSE)
    out[[paste("alpha", nm, pol, sep = "_")]] <- list(
      raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha, G6 = a$total[["G6(smc)"]],
      average_r = a$total$average_r, n = nrow(xx))
  }
  nf <- if (nm == "AC") 2 else 1
  xx <- na.omit(x)
  om <- suppressWarnings(suppressMessages(psych::omega(xx, nfactors = nf, poly = TRUE, plot = FALSE)))
  out[[paste("omega", nm, sep = "_")]] <- list(
    nfactors = nf, omega_total = om$omega.tot, omega_h = om$omega_h, n = nrow(xx),
    g = unname(om$schmid$sl[, "g"]))
}
out_dir <- file.path("tests", "golden", "reliability")
write_json(out, file.path(out_dir, "ordinal.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
