package dev.sbx.envd.files;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HeaderParametersTest {
  @Test
  void parsesTokensQuotedStringsAndExtendedValues() {
    HeaderParameters type =
        HeaderParameters.parse("Multipart/Form-Data; Boundary=\"a b;c\"; charset=utf-8");
    assertThat(type.value()).isEqualTo("multipart/form-data");
    assertThat(type.get("boundary")).isEqualTo("a b;c");
    assertThat(type.get("charset")).isEqualTo("utf-8");

    HeaderParameters disposition =
        HeaderParameters.parse("form-data; name=\"file\"; filename=\"dir/a \\\"quoted\\\".txt\"");
    assertThat(disposition.value()).isEqualTo("form-data");
    assertThat(disposition.get("name")).isEqualTo("file");
    assertThat(disposition.get("filename")).isEqualTo("dir/a \"quoted\".txt");

    HeaderParameters extended =
        HeaderParameters.parse(
            "form-data; name=file; filename=\"x\"; filename*=UTF-8''%C3%A9t%C3%A9.txt");
    assertThat(extended.get("filename")).isEqualTo("été.txt");
    assertThat(extended.get("name")).isEqualTo("file");
  }

  @Test
  void toleratesMissingPiecesAndNull() {
    assertThat(HeaderParameters.parse(null).value()).isEmpty();
    HeaderParameters odd = HeaderParameters.parse("form-data; novalue; name=\"unterminated");
    assertThat(odd.get("name")).isEqualTo("unterminated");
    assertThat(odd.get("novalue")).isNull();
  }
}
