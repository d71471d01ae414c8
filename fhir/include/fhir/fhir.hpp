#pragma once
// The fhir library's public surface: read-only FHIR R4 views over Boost.JSON.
#include "fhir/bundle.hpp"
#include "fhir/coding.hpp"
#include "fhir/datetime.hpp"
#include "fhir/json.hpp"
#include "fhir/reference_index.hpp"
#include "fhir/resources.hpp"
#include "fhir/validate.hpp"
