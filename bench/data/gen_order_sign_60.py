#!/usr/bin/env python3
"""Writes bench/data/order-sign-60.json: the load-test and micro-benchmark request.

A realistic CDS Hooks 2.0 order-sign call: a 73-year-old woman with long-standing right knee
OA (KL 4, failed steroid and hyaluronic acid injections), a 60-resource prefetch (Patient +
20 Conditions + 20 Procedures + 19 Observations, most of them unrelated to the knee) and 3
draft orders of which exactly one (an amniotic "stem cell" injection) is flagged.
Deterministic: rerun it and the file is byte-identical.
"""
import json
import os

PAT = "pat-bench-60"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
LOINC = "http://loinc.org"
KNEE = {"coding": [{"system": SCT, "code": "49076000", "display": "Knee joint structure"}], "text": "Right knee"}


def entry(resource):
    return {"fullUrl": f"https://ehr.example.org/fhir/{resource['resourceType']}/{resource['id']}",
            "resource": resource, "search": {"mode": "match"}}


def bundle(resources):
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources), "entry": [entry(r) for r in resources]}


def cc(system, code, display, text=None):
    c = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        c["text"] = text
    return c


def status(system_suffix, code):
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system_suffix}", "code": code}]}


# (id, icd10, display, onset, clinical status, body site)
CONDITIONS = [
    ("cond-koa", "M17.11", "Unilateral primary osteoarthritis, right knee", "2012-03-14", "active", KNEE),
    ("cond-htn", "I10", "Essential (primary) hypertension", "2008-06-02", "active", None),
    ("cond-t2dm", "E11.9", "Type 2 diabetes mellitus without complications", "2014-01-20", "active", None),
    ("cond-hld", "E78.5", "Hyperlipidemia, unspecified", "2010-09-11", "active", None),
    ("cond-obes", "E66.9", "Obesity, unspecified", "2011-02-07", "active", None),
    ("cond-gerd", "K21.9", "Gastro-esophageal reflux disease without esophagitis", "2016-05-30", "active", None),
    ("cond-hypo", "E03.9", "Hypothyroidism, unspecified", "2009-11-18", "active", None),
    ("cond-dep", "F32.9", "Major depressive disorder, single episode, unspecified", "2019-04-03", "resolved", None),
    ("cond-lbp", "M54.50", "Low back pain, unspecified", "2021-08-15", "active", None),
    ("cond-osteop", "M81.0", "Age-related osteoporosis without current pathological fracture", "2020-10-05", "active", None),
    ("cond-ckd", "N18.31", "Chronic kidney disease, stage 3a", "2022-02-22", "active", None),
    ("cond-afib", "I48.91", "Unspecified atrial fibrillation", "2023-07-09", "active", None),
    ("cond-asthma", "J45.909", "Unspecified asthma, uncomplicated", "1985-05-01", "active", None),
    ("cond-rhin", "J30.9", "Allergic rhinitis, unspecified", "1990-04-12", "active", None),
    ("cond-cat", "H26.9", "Unspecified cataract", "2018-12-01", "resolved", None),
    ("cond-insom", "G47.00", "Insomnia, unspecified", "2017-03-27", "active", None),
    ("cond-vitd", "E55.9", "Vitamin D deficiency, unspecified", "2020-10-05", "active", None),
    ("cond-hipoa", "M16.12", "Unilateral primary osteoarthritis, left hip", "2019-06-18", "active",
     {"coding": [{"system": SCT, "code": "287679003", "display": "Left hip region structure"}], "text": "Left hip"}),
    ("cond-ctr", "G56.01", "Carpal tunnel syndrome, right upper limb", "2015-09-09", "resolved", None),
    ("cond-sprain", "S83.511A", "Sprain of anterior cruciate ligament of right knee, initial encounter", "1998-07-04", "resolved", KNEE),
]

# (id, system, code, display, text, date, knee?, used product (system, code, display) or None)
PROCEDURES = [
    ("proc-ster-1", CPT, "20610", "Arthrocentesis, aspiration and/or injection, major joint (knee); without ultrasound guidance",
     "Triamcinolone (Kenalog) 40 mg injection, right knee", "2019-02-11", True, (HCPCS, "J3301", "Triamcinolone acetonide injection")),
    ("proc-ster-2", CPT, "20610", "Arthrocentesis, aspiration and/or injection, major joint (knee); without ultrasound guidance",
     "Methylprednisolone (Depo-Medrol) 40 mg injection, right knee", "2020-06-23", True, (HCPCS, "J1030", "Methylprednisolone acetate injection, 40 mg")),
    ("proc-ha-1", CPT, "20611", "Arthrocentesis, aspiration and/or injection, major joint (knee); with ultrasound guidance",
     "Hyaluronic acid (Synvisc-One) injection, right knee", "2022-09-14", True, (HCPCS, "J7325", "Hyaluronan or derivative, Synvisc or Synvisc-One")),
    ("proc-pt", SCT, "91251008", "Physical therapy procedure", "Physical therapy for right knee, 12 sessions",
     "2021-03-01", True, None),
    ("proc-colo", CPT, "45378", "Colonoscopy, flexible; diagnostic", "Screening colonoscopy", "2021-11-04", False, None),
    ("proc-cat", CPT, "66984", "Extracapsular cataract removal with insertion of intraocular lens prosthesis",
     "Cataract extraction with IOL, left eye", "2019-05-16", False, None),
    ("proc-appy", SCT, "80146002", "Excision of appendix", "Appendectomy", "1972-08-19", False, None),
    ("proc-mammo", CPT, "77067", "Screening mammography, bilateral", "Screening mammogram", "2025-10-08", False, None),
    ("proc-dexa", CPT, "77080", "Dual-energy X-ray absorptiometry (DXA), bone density study, axial skeleton",
     "DXA bone density scan", "2024-10-21", False, None),
    ("proc-echo", CPT, "93306", "Echocardiography, transthoracic, complete", "Transthoracic echocardiogram",
     "2023-07-12", False, None),
    ("proc-ecg", CPT, "93000", "Electrocardiogram, routine ECG with at least 12 leads", "12-lead ECG", "2026-04-02", False, None),
    ("proc-ctr", CPT, "64721", "Neuroplasty; median nerve at carpal tunnel", "Carpal tunnel release, right wrist",
     "2016-01-28", False, None),
    ("proc-chole", CPT, "47562", "Laparoscopy, surgical; cholecystectomy", "Laparoscopic cholecystectomy", "2013-04-17", False, None),
    ("proc-skin", CPT, "11402", "Excision, benign lesion, trunk, arms or legs; 1.1 to 2.0 cm",
     "Excision of seborrhoeic keratosis, left forearm", "2024-02-09", False, None),
    ("proc-spiro", CPT, "94010", "Spirometry", "Spirometry", "2025-03-18", False, None),
    ("proc-flu", CPT, "90662", "Influenza virus vaccine, split virus, preservative free, enhanced immunogenicity",
     "Influenza vaccination", "2025-10-08", False, None),
    ("proc-hipinj", CPT, "20610", "Arthrocentesis, aspiration and/or injection, major joint; without ultrasound guidance",
     "Triamcinolone injection, left hip", "2024-05-06", False, (HCPCS, "J3301", "Triamcinolone acetonide injection")),
    ("proc-xray", CPT, "73562", "Radiologic examination, knee; 3 views", "X-ray right knee, 3 views", "2026-10-22", True, None),
    ("proc-mri", CPT, "73721", "MRI any joint of lower extremity; without contrast", "MRI right knee without contrast",
     "2023-01-30", True, None),
    ("proc-dental", SCT, "234696006", "Scaling and polishing of teeth", "Dental cleaning", "2026-06-11", False, None),
]

# (id, coding or None, text, date, value fields, category)
OBSERVATIONS = [
    ("obs-kl", None, "Kellgren-Lawrence grade, right knee", "2026-10-22", {"valueInteger": 4}, "imaging"),
    ("obs-xr-report", None, "X-ray right knee impression", "2026-10-22",
     {"valueString": "Severe medial tibiofemoral joint space narrowing, bone on bone, osteophytes"}, "imaging"),
    ("obs-pain-now", (LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),
     "Right knee pain (NRS)", "2026-11-18", {"valueInteger": 7}, "survey"),
    ("obs-pain-prev", (LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),
     "Right knee pain (NRS)", "2025-11-20", {"valueInteger": 6}, "survey"),
    ("obs-sbp", (LOINC, "8480-6", "Systolic blood pressure"), "Systolic blood pressure", "2026-11-18",
     {"valueQuantity": {"value": 138, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}, "vital-signs"),
    ("obs-dbp", (LOINC, "8462-4", "Diastolic blood pressure"), "Diastolic blood pressure", "2026-11-18",
     {"valueQuantity": {"value": 84, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}, "vital-signs"),
    ("obs-hr", (LOINC, "8867-4", "Heart rate"), "Heart rate", "2026-11-18",
     {"valueQuantity": {"value": 76, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}, "vital-signs"),
    ("obs-wt", (LOINC, "29463-7", "Body weight"), "Body weight", "2026-11-18",
     {"valueQuantity": {"value": 88.4, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}, "vital-signs"),
    ("obs-bmi", (LOINC, "39156-5", "Body mass index (BMI) [Ratio]"), "BMI", "2026-11-18",
     {"valueQuantity": {"value": 32.1, "unit": "kg/m2", "system": "http://unitsofmeasure.org", "code": "kg/m2"}}, "vital-signs"),
    ("obs-temp", (LOINC, "8310-5", "Body temperature"), "Body temperature", "2026-11-18",
     {"valueQuantity": {"value": 36.7, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"}}, "vital-signs"),
    ("obs-spo2", (LOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"), "SpO2", "2026-11-18",
     {"valueQuantity": {"value": 97, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}, "vital-signs"),
    ("obs-a1c", (LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), "HbA1c", "2026-09-30",
     {"valueQuantity": {"value": 7.2, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}, "laboratory"),
    ("obs-ldl", (LOINC, "13457-7", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation"), "LDL cholesterol",
     "2026-09-30", {"valueQuantity": {"value": 102, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}}, "laboratory"),
    ("obs-egfr", (LOINC, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI)"),
     "eGFR", "2026-09-30", {"valueQuantity": {"value": 54, "unit": "mL/min/{1.73_m2}", "system": "http://unitsofmeasure.org", "code": "mL/min/{1.73_m2}"}}, "laboratory"),
    ("obs-tsh", (LOINC, "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma"), "TSH", "2026-09-30",
     {"valueQuantity": {"value": 2.4, "unit": "m[IU]/L", "system": "http://unitsofmeasure.org", "code": "m[IU]/L"}}, "laboratory"),
    ("obs-vitd", (LOINC, "1989-3", "25-Hydroxyvitamin D3 [Mass/volume] in Serum or Plasma"), "Vitamin D, 25-OH",
     "2026-09-30", {"valueQuantity": {"value": 27, "unit": "ng/mL", "system": "http://unitsofmeasure.org", "code": "ng/mL"}}, "laboratory"),
    ("obs-hgb", (LOINC, "718-7", "Hemoglobin [Mass/volume] in Blood"), "Hemoglobin", "2026-09-30",
     {"valueQuantity": {"value": 12.9, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"}}, "laboratory"),
    ("obs-k", (LOINC, "2823-3", "Potassium [Moles/volume] in Serum or Plasma"), "Potassium", "2026-09-30",
     {"valueQuantity": {"value": 4.3, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}}, "laboratory"),
    ("obs-smoke", (LOINC, "72166-2", "Tobacco smoking status"), "Tobacco smoking status", "2026-04-02",
     {"valueCodeableConcept": cc(SCT, "8517006", "Ex-smoker")}, "social-history"),
]


def condition(cid, code, display, onset, clinical, site):
    r = {"resourceType": "Condition", "id": cid,
         "clinicalStatus": status("condition-clinical", clinical),
         "verificationStatus": status("condition-ver-status", "confirmed"),
         "category": [cc("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")],
         "code": cc(ICD, code, display, display),
         "subject": {"reference": f"Patient/{PAT}"},
         "onsetDateTime": onset, "recordedDate": onset}
    if clinical == "resolved":
        r["abatementDateTime"] = onset[:4] + "-12-31"
    if site:
        r["bodySite"] = [site]
    return r


def procedure(pid, system, code, display, text, date, knee, used):
    r = {"resourceType": "Procedure", "id": pid, "status": "completed",
         "code": cc(system, code, display, text),
         "subject": {"reference": f"Patient/{PAT}"},
         "performedDateTime": date}
    if knee:
        r["bodySite"] = [KNEE]
        r["reasonReference"] = [{"reference": "Condition/cond-koa"}]
    if used:
        r["usedCode"] = [cc(*used)]
    return r


def observation(oid, coding, text, date, value, category):
    code = cc(*coding, text) if coding else {"text": text}
    r = {"resourceType": "Observation", "id": oid, "status": "final",
         "category": [cc("http://terminology.hl7.org/CodeSystem/observation-category", category, category)],
         "code": code, "subject": {"reference": f"Patient/{PAT}"},
         "effectiveDateTime": date}
    r.update(value)
    if oid in ("obs-kl", "obs-xr-report", "obs-pain-now", "obs-pain-prev"):
        r["bodySite"] = KNEE
    return r


def draft_orders():
    common = {"subject": {"reference": f"Patient/{PAT}"}, "encounter": {"reference": "Encounter/enc-bench-60"},
              "authoredOn": "2026-11-25T12:00:00Z", "requester": {"reference": "Practitioner/dr-bench"}}
    reason = [cc(ICD, "M17.11", "Unilateral primary osteoarthritis, right knee")]
    xray = {"resourceType": "ServiceRequest", "id": "sr-xray-1", "status": "draft", "intent": "order",
            "category": [{"text": "Imaging"}],
            "code": cc(CPT, "73564", "Radiologic examination, knee; complete, 4 or more views",
                       "X-ray right knee, weight-bearing AP, lateral and sunrise views"),
            **common, "reasonCode": reason, "bodySite": [KNEE]}
    ha = {"resourceType": "MedicationRequest", "id": "mr-ha-1", "status": "draft", "intent": "order",
          "medicationCodeableConcept": cc(HCPCS, "J7323", "Hyaluronan or derivative, Euflexxa, for intra-articular injection, per dose",
                                          "Sodium hyaluronate (Euflexxa) 20 mg/2 mL"),
          **common, "reasonCode": reason,
          "dosageInstruction": [{"text": "20 mg intra-articular into the right knee, weekly x 3",
                                 "timing": {"repeat": {"count": 3, "frequency": 1, "period": 1, "periodUnit": "wk"}},
                                 "site": KNEE, "route": {"text": "Intra-articular"}}]}
    amnio = {"resourceType": "ServiceRequest", "id": "sr-amnio-1", "status": "draft", "intent": "order",
             "code": {"text": "Amniotic membrane allograft flowable injection (\"stem cell\" injection), right knee"},
             "quantityQuantity": {"value": 1, "unit": "injection"},
             **common, "reasonCode": reason, "bodySite": [KNEE],
             "note": [{"text": "Patient asks for a stem cell injection to avoid knee replacement."}]}
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:0b6c2f1e-6a4b-4f55-9d0e-00000000000{i}", "resource": r}
                      for i, r in enumerate((xray, ha, amnio), start=1)]}


def main():
    patient = {"resourceType": "Patient", "id": PAT, "active": True,
               "identifier": [{"system": "https://ehr.example.org/mrn", "value": "MRN-0060-2026"}],
               "name": [{"use": "official", "family": "Lindqvist", "given": ["Margareta", "E."]}],
               "telecom": [{"system": "phone", "value": "+1-555-0160", "use": "home"}],
               "gender": "female", "birthDate": "1953-05-27",
               "address": [{"line": ["12 Birch Lane"], "city": "Springfield", "state": "IL", "postalCode": "62704"}]}
    conditions = [condition(*c) for c in CONDITIONS]
    procedures = [procedure(*p) for p in PROCEDURES]
    observations = [observation(*o) for o in OBSERVATIONS]
    assert 1 + len(conditions) + len(procedures) + len(observations) == 60
    request = {
        "hook": "order-sign",
        "hookInstance": "6f1c3b0e-8d2a-4c61-9b7e-4f2a60c0be60",
        "context": {"userId": "Practitioner/dr-bench", "patientId": PAT, "encounterId": "enc-bench-60",
                    "draftOrders": draft_orders()},
        "prefetch": {"patient": patient, "conditions": bundle(conditions), "procedures": bundle(procedures),
                     "observations": bundle(observations)},
    }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "order-sign-60.json")
    with open(out, "w") as f:
        json.dump(request, f, separators=(",", ":"))
        f.write("\n")
    print(out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main()
