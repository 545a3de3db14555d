// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"fmt"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// ValidateIndexRule checks an index rule sent to Create or Update, on its own. It reports the
// first problem as a *FieldError whose field starts with "index_rule":
//   - metadata present with a group and a name that pass ValidateName;
//   - at least one tag; every tag a non-empty name without '#', unique in the rule;
//   - type a defined, non-UNSPECIFIED value.
//
// For a trace, the last tag is the sort key and the others form the series; whether they fit a
// trace schema is checked against every trace the rule is bound to (see validateRuleOnTrace).
func ValidateIndexRule(r *databasev1.IndexRule) error {
	const field = "index_rule"
	if r == nil {
		return fieldErrorf(field, reasonRequired)
	}
	if err := validateMetadata(field+".metadata", r.GetMetadata()); err != nil {
		return err
	}
	if len(r.GetTags()) == 0 {
		return fieldErrorf(field+".tags", reasonEmpty)
	}
	seen := make(map[string]int, len(r.GetTags()))
	for i, tag := range r.GetTags() {
		tagField := fmt.Sprintf("%s.tags[%d]", field, i)
		if err := validateTagName(tagField, tag); err != nil {
			return err
		}
		if j, dup := seen[tag]; dup {
			return fieldErrorf(tagField, "tag %q is already listed at tags[%d]", tag, j)
		}
		seen[tag] = i
	}
	if _, ok := databasev1.IndexRule_Type_name[int32(r.GetType())]; !ok || r.GetType() == databasev1.IndexRule_TYPE_UNSPECIFIED {
		return fieldErrorf(field+".type", "must be a defined index type, got %s", r.GetType())
	}
	return nil
}

// ruleMismatch describes why an index rule does not fit a trace schema.
type ruleMismatch struct {
	// tag is the position of the offending tag in the rule's tags.
	tag    int
	reason string
}

// matchRuleToTrace checks that every tag of the rule is a tag of the trace schema and that the
// last one, the sort key, is TAG_TYPE_INT or TAG_TYPE_TIMESTAMP. It returns nil when the rule fits.
func matchRuleToTrace(r *databasev1.IndexRule, t *databasev1.Trace) *ruleMismatch {
	types := tagTypes(t)
	last := len(r.GetTags()) - 1
	for i, tag := range r.GetTags() {
		typ, ok := types[tag]
		if !ok {
			return &ruleMismatch{tag: i, reason: fmt.Sprintf("tag %q is not in trace %q", tag, t.GetMetadata().GetName())}
		}
		if i == last && typ != databasev1.TagType_TAG_TYPE_INT && typ != databasev1.TagType_TAG_TYPE_TIMESTAMP {
			return &ruleMismatch{tag: i, reason: fmt.Sprintf(
				"sort tag %q has type %s in trace %q, want TAG_TYPE_INT or TAG_TYPE_TIMESTAMP", tag, typ, t.GetMetadata().GetName())}
		}
	}
	return nil
}

// ValidateIndexRuleBinding checks a binding sent to Create or Update, on its own (the rules and
// the trace it refers to are checked by validateBindingReferences). It reports the first problem
// as a *FieldError whose field starts with "index_rule_binding":
//   - metadata present with a group and a name that pass ValidateName;
//   - at least one rule; every rule name passing ValidateName and unique in the binding;
//   - subject present, subject.catalog specified and CATALOG_TRACE, subject.name passing ValidateName;
//   - begin_at and expire_at present and valid timestamps, begin_at before expire_at.
func ValidateIndexRuleBinding(b *databasev1.IndexRuleBinding) error {
	const field = "index_rule_binding"
	if b == nil {
		return fieldErrorf(field, reasonRequired)
	}
	if err := validateMetadata(field+".metadata", b.GetMetadata()); err != nil {
		return err
	}
	if len(b.GetRules()) == 0 {
		return fieldErrorf(field+".rules", reasonEmpty)
	}
	seen := make(map[string]int, len(b.GetRules()))
	for i, rule := range b.GetRules() {
		ruleField := fmt.Sprintf("%s.rules[%d]", field, i)
		if err := validateName(ruleField, rule); err != nil {
			return err
		}
		if j, dup := seen[rule]; dup {
			return fieldErrorf(ruleField, "rule %q is already listed at rules[%d]", rule, j)
		}
		seen[rule] = i
	}
	subject := b.GetSubject()
	if subject == nil {
		return fieldErrorf(field+".subject", reasonRequired)
	}
	if subject.GetCatalog() == commonv1.Catalog_CATALOG_UNSPECIFIED {
		return fieldErrorf(field+".subject.catalog", "must be specified")
	}
	if subject.GetCatalog() != commonv1.Catalog_CATALOG_TRACE {
		return fieldErrorf(field+".subject.catalog", "must be CATALOG_TRACE, got %s", subject.GetCatalog())
	}
	if err := validateName(field+".subject.name", subject.GetName()); err != nil {
		return err
	}
	if b.GetBeginAt() == nil {
		return fieldErrorf(field+".begin_at", reasonRequired)
	}
	if err := b.GetBeginAt().CheckValid(); err != nil {
		return fieldErrorf(field+".begin_at", "invalid timestamp: %v", err)
	}
	if b.GetExpireAt() == nil {
		return fieldErrorf(field+".expire_at", reasonRequired)
	}
	if err := b.GetExpireAt().CheckValid(); err != nil {
		return fieldErrorf(field+".expire_at", "invalid timestamp: %v", err)
	}
	if !b.GetBeginAt().AsTime().Before(b.GetExpireAt().AsTime()) {
		return fieldErrorf(field+".expire_at", "must be after begin_at (%s), got %s",
			b.GetBeginAt().AsTime().Format("2006-01-02T15:04:05.999999999Z07:00"),
			b.GetExpireAt().AsTime().Format("2006-01-02T15:04:05.999999999Z07:00"))
	}
	return nil
}

// validateBindingReferences checks a structurally valid binding against the trace it binds and
// the rules it names (rules[i] of the binding is rules[i] here): every rule must fit the trace.
func validateBindingReferences(b *databasev1.IndexRuleBinding, t *databasev1.Trace, rules []*databasev1.IndexRule) error {
	for i, r := range rules {
		if m := matchRuleToTrace(r, t); m != nil {
			return fieldErrorf(fmt.Sprintf("index_rule_binding.rules[%d]", i), "index rule %q: %s", b.GetRules()[i], m.reason)
		}
	}
	return nil
}
